"""Seeded generator of labelled, realistic calendar events for training the event classifier.

Why it looks like this: the classifier (character n-gram TF-IDF + time features) is judged on events typed by
real people, in English, Korean and a mix of both, full of abbreviations, typos and emoji. A model trained on a
few clean templates learns the templates, not the task. So this module optimises for VARIETY and realism:

* many wordings per category and language, composed from slot fillers (names, companies, places, courses...),
  with Korean particles that agree with the name (``지영이랑``, ``민수랑``) and Konglish (``팀 sync``, ``PT 세션``);
* surface noise at realistic rates: abbreviations, typos (English letter slips, Korean spacing/syllable and
  common misspellings), emoji, casing, bracket prefixes, times in the title, very short and very long titles;
* a small share of genuinely ambiguous wordings, always labelled the same way, and an OTHER class made of
  contentless entries ("Busy", "보류", a bare name) rather than of leftovers;
* plausible but overlapping times per category, so time helps without being a giveaway;
* priority derived from the visible text (urgency / optional markers), so it is learnable and consistent.

Everything draws from one ``random.Random(seed)``: the same (n, seed, start_date) always gives the same events.
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Callable

CATEGORIES = ("WORK", "PERSONAL", "HEALTH", "SOCIAL", "LEARNING", "OTHER")
CATEGORY_WEIGHTS = (0.28, 0.18, 0.15, 0.16, 0.14, 0.09)
LANGS = ("en", "ko", "mixed")
LANG_WEIGHTS = (0.50, 0.40, 0.10)
DEFAULT_START = date(2025, 1, 6)


def _t(text: str) -> tuple[str, ...]:
    """A table written as '|'- or newline-separated items."""
    return tuple(s.strip() for s in re.split(r"[|\n]", text) if s.strip())


# ---------------------------------------------------------------------------------------------------- slot fillers
EN_NAME = _t("""Sarah|Tom|Jane|Mark|Alex|Emily|Chris|Priya|Daniel|Laura|Kevin|Rachel|Mike|Jessica|David|Olivia|Ben
Hannah|Ryan|Sophie|James|Nina|Carlos|Mei|Raj|Anna|Lucas|Grace|Ethan|Chloe|Sam|Zoe|Omar|Julia|Leo|Fatima|Noah
Emma|Jack|Ava|Minsu|Jiyoung|Kenji|Aisha|Diego|Ingrid|Paul|Megan|Josh|Tina""")
EN_SURNAME = _t("Patel|Kim|Smith|Nguyen|Garcia|Cohen|Lee|Park|Brown|Chen|Rossi|Mueller|Jones|Wong|Okafor|Silva")
KO_NAME = (("민수", "minsu"), ("지영", "jiyoung"), ("서연", "seoyeon"), ("준호", "junho"), ("현우", "hyunwoo"),
           ("수진", "sujin"), ("은지", "eunji"), ("도윤", "doyun"), ("하은", "haeun"), ("지훈", "jihoon"),
           ("예린", "yerin"), ("성민", "sungmin"), ("유진", "yujin"), ("태현", "taehyun"), ("소연", "soyeon"),
           ("동현", "donghyun"), ("민지", "minji"), ("재원", "jaewon"), ("혜진", "hyejin"), ("승우", "seungwoo"),
           ("나연", "nayeon"), ("정호", "jungho"), ("다은", "daeun"), ("상훈", "sanghoon"), ("윤서", "yunseo"),
           ("우진", "woojin"), ("지수", "jisoo"), ("영희", "younghee"), ("철수", "chulsoo"), ("보라", "bora"))
KO_SURNAME = _t("김|이|박|최|정|강|조|윤|장|임|한|오|서|신|권|황|안|송|류|홍")
KO_TITLE = _t("과장님|대리님|부장님|팀장님|차장님|이사님|대표님|선배|매니저님|책임님|수석님|프로님|본부장님")
EN_FAM = _t("mom|dad|grandma|grandpa|my sister|my brother|the kids|aunt Linda|uncle Joe|the in-laws|my parents")
KO_FAM = _t("엄마|아빠|할머니|할아버지|언니|오빠|누나|형|동생|부모님|시어머니|장모님|이모|삼촌")
EN_KID = _t("Emma|Liam|Mia|Noah|Lily|Jake|Ella|Leo|Zoe")
KO_KID = _t("서준|하윤|지호|서아|도현|아린|시우|유나")
PET = _t("Max|Coco|Bella|Luna|Charlie|Milo|콩이|초코|보리|두부")
EN_COMPANY = _t("Acme|Globex|Initech|Hooli|Umbrella|Northwind|Contoso|Fabrikam|Tyrell|Vandelay|Pied Piper|Apex "
                "Logistics|Blue Sky Labs|Stark|Wayne Corp|Soylent|Dunder Mifflin")
KO_COMPANY = _t("삼성전자|카카오|네이버|현대차|쿠팡|배민|토스|당근|한화|롯데|신한은행|대한항공|CJ|SK텔레콤|LG전자|"
                "협력사|고객사|본사")
PROJECT = _t("Phoenix|Atlas|Orion|Apollo|Nova|Titan|Falcon|Aurora|Mercury|Zephyr|Helix|Comet|billing v2|checkout|"
             "search|mobile app|data platform|API gateway|payments|design system|onboarding revamp")
KO_PROJECT = _t("신규 서비스|홈페이지 리뉴얼|모바일 앱|결제 시스템|고도화|차세대 시스템|마이그레이션|정산 시스템|"
                "추천 시스템|데이터 플랫폼|사내 포털|물류 자동화")
EN_TOPIC = _t("budget|roadmap|hiring|pricing|launch plan|security audit|vendor contract|marketing campaign|churn|"
              "onboarding|headcount|sales pipeline|OKRs|reorg|SLA|partnership|renewal|forecast|KPIs|Q4 plan")
KO_TOPIC = _t("예산|로드맵|채용|가격 정책|하반기 계획|신제품 출시|보안 점검|계약 건|마케팅 캠페인|성과 평가|인력 충원|"
              "매출 현황|고객 이탈|분기 실적|견적서|제안서|조직 개편|신규 거래처|프로모션|KPI")
EN_TEAM = _t("backend|frontend|design|sales|marketing|infra|data|growth|platform|mobile|QA|ops|finance|legal|HR")
KO_TEAM = _t("개발팀|디자인팀|영업팀|마케팅팀|인사팀|기획팀|재무팀|전략팀|운영팀|데이터팀|품질팀|법무팀")
EN_CITY = _t("NYC|Chicago|London|Berlin|Tokyo|Singapore|SF|Austin|Seattle|Boston|Toronto|Seoul|Paris|Denver")
KO_CITY = _t("부산|대구|대전|광주|제주|판교|세종|울산|인천|수원|창원|도쿄|싱가포르|상하이|베트남")
KO_AREA = _t("강남|역삼|홍대|신촌|성수|잠실|판교|여의도|광화문|합정|건대|서초|목동|분당|일산|송파|마포|을지로|"
             "연남|종로")
EN_COURSE = _t("Spanish|French|Japanese|Mandarin|Python|machine learning|statistics|calculus|guitar|piano|photography|"
               "pottery|UX design|data science|accounting|public speaking|chess|drawing|SQL|Rust|German|Korean|"
               "econ|organic chem|linear algebra|art history")
KO_COURSE = _t("영어 회화|일본어|중국어|스페인어|파이썬|코딩|머신러닝|통계|회계|토익|한국사|통기타|피아노|드로잉|"
               "요리|사진|데이터 분석|SQL|경제학|미적분|자바|프랑스어|독일어|글쓰기")
EN_EXAM = _t("TOEFL|IELTS|GRE|GMAT|SAT|CPA|AWS cert|PMP|CFA L1|bar exam|LSAT|MCAT|driving test")
KO_EXAM = _t("토익|토플|오픽|정보처리기사|한국사능력검정|컴활 1급|공무원 시험|자격증 시험|중간고사|기말고사|JLPT|"
             "운전면허 필기|텝스|SQLD")
EN_BOOK = _t("Atomic Habits|Clean Code|DDIA|Sapiens|Deep Work|The Pragmatic Programmer|1984|Dune|"
             "Thinking, Fast and Slow|the textbook|Designing Data-Intensive Apps|SICP")
KO_BOOK = _t("데미안|사피엔스|채식주의자|코스모스|아몬드|총균쇠|전공책|역사의 쓸모|트렌드 코리아|불편한 편의점")
EN_FOOD = _t("pizza|sushi|tacos|ramen|BBQ|Thai|Korean BBQ|burgers|dim sum|pho|Indian|dumplings|wings|steak|"
             "Mexican|hot pot|brunch")
KO_FOOD = _t("삼겹살|치킨|곱창|회|파스타|초밥|고기|족발|닭갈비|떡볶이|마라탕|양꼬치|피자|막창|국밥|한우|와인|"
             "감자탕|보쌈|냉면|쌀국수|닭발")
EN_SPORT = _t("yoga|pilates|spin class|crossfit|swim|HIIT|boxing|climbing|tennis|cardio|barre|zumba|rowing|"
              "squash|basketball|soccer|badminton|kickboxing")
KO_SPORT = _t("요가|필라테스|헬스|수영|러닝|크로스핏|클라이밍|테니스|복싱|스피닝|배드민턴|줌바|풋살|골프 연습|"
              "등산|자전거|스쿼시|탁구")
EN_DOC = _t("dentist|dermatologist|eye doctor|GP|orthopedist|ENT|physio|chiropractor|cardiologist|allergist|"
            "OB-GYN|psychiatrist|therapist|optometrist|podiatrist|endocrinologist")
KO_DOC = _t("치과|피부과|안과|내과|정형외과|이비인후과|한의원|산부인과|정신건강의학과|가정의학과|재활의학과|"
            "비뇨기과|신경과|소아과")
KO_HOSPITAL = _t("서울대병원|세브란스병원|삼성서울병원|아산병원|동네 내과|연세치과|미소치과|365의원|"
                 "강남성모병원|분당서울대병원")
KO_MOUNTAIN = _t("북한산|관악산|도봉산|청계산|인왕산|아차산|설악산")
KO_BANK = _t("국민은행|신한은행|우리은행|하나은행|농협|기업은행")
KO_BILL = _t("전기|가스|수도|통신|인터넷|휴대폰")
EN_BILL = _t("phone|electric|water|gas|internet|Visa|Amex|car insurance")
EN_ITEM = _t("couch|bike|shoes|lamp|TV|laptop|stroller|headphones|rug|mattress|coffee maker|desk|jacket")
EN_BAND = _t("Coldplay|Taylor Swift|BTS|Arctic Monkeys|the symphony|jazz trio|Radiohead|local band|Blackpink")
KO_BAND = _t("아이유|세븐틴|뉴진스|성시경|임영웅|데이식스|잔나비|싸이 흠뻑쇼|에스파")
EN_PLACE = _t("The Local|Joe's Bar|O'Malley's|Blue Bottle|the rooftop bar|Shake Shack|Chez Nous|the park|"
              "Starbucks|the usual place|Central Park|the pub")
EN_LEARN_TOPIC = _t("machine learning|React|Kubernetes|negotiation|product management|leadership|UX research|"
                    "data viz|cybersecurity|LLMs|personal finance|system design|TypeScript")
EN_MED = _t("allergy meds|inhaler|vitamin D|antibiotics|blood pressure meds|birth control|thyroid meds")
EN_BODY = _t("leg|back|chest|arm|shoulder|core|push|pull|glutes")
DIST = _t("5k|10k|3 mile|5 mile|8km|half|21k|15k")
WEEKDAY = _t("Mon|Tue|Wed|Thu|Fri|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday")
KO_WEEKDAY = _t("월요일|화요일|수요일|목요일|금요일|토요일|일요일|월욜|금욜")
MONTH = _t("Jan|Feb|March|April|May|June|July|Aug|Sept|Oct|Nov|Dec")
QUARTER = _t("Q1|Q2|Q3|Q4|H1|H2|FY25|Q3")
STREET = _t("Main St|Oak Ave|Market St|2nd Ave|Elm St|Broadway|Pine St|Lake Rd")

_DYNAMIC: dict[str, Callable[[random.Random], str]] = {
    "n": lambda r: str(r.randint(1, 12)),
    "n2": lambda r: str(r.randint(2, 30)),
    "num": lambda r: str(r.randint(100, 99999)),
    "num4": lambda r: f"{r.randint(0, 9999):04d}",
    "ver": lambda r: f"v{r.randint(1, 4)}.{r.randint(0, 12)}",
    "letter": lambda r: r.choice("ABCDEF"),
    "code": lambda r: "".join(r.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(6)),
    "street": lambda r: f"{r.randint(1, 999)} {r.choice(STREET)}",
    "ko_name": lambda r: r.choice(KO_NAME)[0],
    "ko_boss": lambda r: f"{r.choice(KO_SURNAME)} {r.choice(KO_TITLE)}" if r.random() < 0.6 else
    f"{r.choice(KO_SURNAME)}{r.choice(KO_TITLE)}",
    "en_boss": lambda r: f"{r.choice(('Mr.', 'Ms.', 'Dr.'))} {r.choice(EN_SURNAME)}",
}
_POOLS: dict[str, tuple[str, ...]] = {
    "en_name": EN_NAME, "en_surname": EN_SURNAME, "en_fam": EN_FAM, "ko_fam": KO_FAM, "en_kid": EN_KID,
    "ko_kid": KO_KID, "pet": PET, "en_company": EN_COMPANY, "ko_company": KO_COMPANY, "project": PROJECT,
    "ko_project": KO_PROJECT, "en_topic": EN_TOPIC, "ko_topic": KO_TOPIC, "en_team": EN_TEAM, "ko_team": KO_TEAM,
    "en_city": EN_CITY, "ko_city": KO_CITY, "ko_area": KO_AREA, "en_course": EN_COURSE, "ko_course": KO_COURSE,
    "en_exam": EN_EXAM, "ko_exam": KO_EXAM, "en_book": EN_BOOK, "ko_book": KO_BOOK, "en_food": EN_FOOD,
    "ko_food": KO_FOOD, "en_sport": EN_SPORT, "ko_sport": KO_SPORT, "en_doc": EN_DOC, "ko_doc": KO_DOC,
    "ko_hospital": KO_HOSPITAL, "ko_mountain": KO_MOUNTAIN, "ko_bank": KO_BANK, "ko_bill": KO_BILL,
    "en_bill": EN_BILL, "en_item": EN_ITEM, "en_band": EN_BAND, "ko_band": KO_BAND, "en_place": EN_PLACE,
    "en_learn": EN_LEARN_TOPIC, "en_med": EN_MED, "body": EN_BODY, "dist": DIST, "weekday": WEEKDAY,
    "ko_weekday": KO_WEEKDAY, "month": MONTH, "q": QUARTER,
}

# ------------------------------------------------------------------------------------------------ title templates
WORK_EN = _t("""
standup|daily standup|team standup|1:1 with {en_name}|1:1 {en_name} / {en_name}|one-on-one with {en_name}
sprint planning|sprint retro|sprint review|backlog grooming|{q} review|{q} planning|{q} OKR check-in|client call
client call - {en_company}|call with {en_company}|{en_company} pitch|{en_company} QBR|code review
code review for {project}|review PR #{num}|deploy {project}|deploy {ver} to prod|release {ver}|hotfix {project}
interview candidate|interview: {en_name} (backend)|phone screen - {en_name}|onsite interview loop|board meeting
all hands|town hall|{en_team} team sync|{en_team} sync|weekly sync|weekly team meeting|staff meeting
leadership offsite|design review|architecture review|{project} kickoff|{project} status update|{project} demo
demo day prep|prep slides for {en_topic}|finish deck for {en_company}|budget review|{en_topic} discussion
{en_topic} meeting|meeting with {en_name} about {en_topic}|submit expense report|timesheets
performance review - {en_name}|write self review|on-call handoff|incident postmortem|postmortem: {project} outage
vendor meeting|contract review with legal|pipeline review|marketing sync|product roadmap review
roadmap planning {q}|customer demo|customer onboarding - {en_company}|send invoice to {en_company}
follow up with {en_company}|email {en_name} about {en_topic}|business trip - {en_city}|{en_city} office visit
flight to {en_city} for {en_company} meeting|quarterly business review|team offsite|hiring committee
headcount planning|write PRD for {project}|update Jira tickets|triage bugs|bug bash|QA sign-off {ver}
stakeholder update|exec review|investor update|pricing review|pair programming with {en_name}
whiteboard session {project}|brainstorm {en_topic}|report due|finish {en_topic} report|proposal for {en_company}
RFP response|migrate {project} db|capacity planning|infra cost review|work on {project}|handover to {en_name}
onboarding {en_name}|new hire orientation|payroll run|close the books for {month}|{month} sales report
ship {project}|meeting with {en_boss}|{en_team} interview debrief|sync with {en_name} on {project}
tax filing for the company|prep for {en_company} call|deadline: {project} spec|presentation to the board
weekly report|conference call with {en_city} team
""")
WORK_KO = _t("""
주간회의|주간 회의|팀 회의|{ko_team} 회의|{ko_team} 주간회의|월간 회의|아침 회의|전체 회의|임원 회의|보고서 마감
주간 보고서 작성|월간 보고|{ko_boss}께 보고|{ko_boss} 면담|{ko_boss:gwa} 미팅|거래처 미팅|{ko_company} 미팅
{ko_company} 미팅 준비|{ko_company} 방문|거래처 방문 ({ko_company})|{ko_city} 출장|출장 ({ko_city})|출장 보고서 작성
면접|신입 면접|경력직 면접 ({ko_name})|2차 면접|채용 면접 진행|발표 준비|{ko_topic} 발표|{ko_topic} 회의
{ko_topic} 검토|{ko_topic} 논의|{ko_project} 킥오프|{ko_project} 회의|{ko_project} 일정 점검
{ko_project} 진행 상황 공유|{ko_project} 오픈|배포|배포 작업|정기 배포|서버 점검|코드 리뷰|기획 회의|기획안 작성
제안서 작성|견적서 보내기|계약서 검토|{ko_company} 계약 체결|결재 올리기|품의서 작성|예산 회의|{q} 실적 보고
분기 실적 정리|상반기 평가|하반기 사업계획|성과 평가 면담|인사 평가|업무 인수인계|신입사원 온보딩|야근|업무 정리
메일 회신|{ko_name}님 회신|고객사 전화|고객 미팅|컨퍼런스콜|화상회의|본사 회의|이사회|주주총회|경영회의
팀장 회의|전략 회의|마케팅 회의|영업 회의|프로젝트 회고|스프린트 회고|스프린트 계획|데일리 스크럼
세금계산서 발행|정산 마감|월말 마감|출장비 정산|법인카드 정리|재고 조사|협력사 미팅|외부 미팅|업체 미팅
{ko_company} 제안 발표|시안 검토|디자인 리뷰|릴리즈 노트 작성|장애 회고|당직|외근|{ko_name} 대리랑 업무 협의
{ko_team:gwa} 협의|{ko_topic} 자료 준비|{ko_boss} 보고 자료|회의록 정리|{ko_name}님과 통화|견적 비교
""")
WORK_MIXED = _t("""
팀 sync|{en_team} sync 미팅|1:1 미팅 ({ko_name})|1:1 {ko_boss}|weekly 회의|{q} 리뷰|{q} OKR 정리|code review 하기
PR 리뷰|deploy 확인|{project} 배포|{project} kickoff 미팅|client call 준비|{en_company} 미팅|standup 미팅
sprint planning 회의|retro 회의|KPI 보고|PT 자료 준비|IR 자료 작성|보고서 draft|deck 수정|slack 정리
jira 티켓 정리|onboarding 세션|interview 준비|offsite 준비|all hands 미팅|demo 준비|{project} 런칭|hotfix 배포
DB 마이그레이션|API 설계 회의|UX 리뷰|meeting w/ {ko_boss}|OKR 회의|{ko_city} business trip|roadmap 공유
""")

PERSONAL_EN = _t("""
groceries|grocery run|buy groceries|Costco run|Trader Joe's|pay rent|rent due|pay {en_bill} bill|pay credit card
car service|oil change|car wash|tire rotation|smog check|DMV appointment|haircut|haircut with {en_name}|nails
laundry|do laundry|pick up dry cleaning|drop off dry cleaning|pick up kids|school pickup|drop kids at school
{en_kid}'s soccer practice|take {en_kid} to piano|parent-teacher conference|babysitter|walk {pet}
vet appt for {pet}|clean apartment|clean the bathroom|vacuum|take out trash|recycling day|water plants|meal prep
cook dinner|renew passport|passport photos|post office|mail package
return Amazon package|pick up package|bank|deposit check|send money to {en_name}|budget & bills|do taxes
file taxes|insurance renewal|cancel subscription|book flights to {en_city}|pack for {en_city}|plumber coming
electrician 10-12|internet installation|furniture delivery|IKEA|assemble desk|fix bike|hardware store
buy gift for {en_name}|order {en_item}|return {en_item}|sell {en_item} on marketplace|garage sale|moving day
pack boxes|change address|sign lease|apartment viewing|house cleaners|donate clothes|wrap presents
shopping for {en_item}|phone repair|get keys copied|mow the lawn|gardening|clean out garage|declutter closet
sort mail|pay parking ticket|jury duty|self care|laundry + ironing|pick up {en_fam} from airport|Target run
renew car registration|pick up {en_item} from store|{en_kid} dentist drop-off|bake for {en_kid}'s school|dog groomer
""")
PERSONAL_KO = _t("""
장보기|마트 장보기|이마트 장보기|코스트코|홈플러스|쿠팡 주문|월세 입금|월세 이체|관리비 납부|카드값 확인
{ko_bill} 요금 납부|은행 업무|은행 가기|{ko_bank} 방문|적금 만기|대출 상담|택배 수령|택배 보내기|택배 반품
우체국 가기|이사 준비|이사|이삿짐 싸기|이삿짐 정리|전입신고|주민센터|등본 떼기|여권 갱신|여권 사진 찍기|청소
대청소|화장실 청소|빨래|빨래 개기|분리수거|음식물 쓰레기 버리기|세차|자동차 정비|엔진오일 교체|타이어 교체
자동차 보험 갱신|미용실|머리 자르기|염색|네일|세탁소 맡기기|세탁소 찾기|아이 픽업|애들 하원|어린이집 하원
유치원 상담|학원 데려다주기|{ko_kid} 학원 픽업|강아지 산책|{pet} 산책|{pet} 미용|동물병원 ({pet})|화분 물주기
반찬 만들기|도시락 싸기|냉장고 정리|옷장 정리
선물 사기|{ko_name} 선물 사기|당근 거래|중고거래|쿠팡 반품|인터넷 설치 기사 방문|에어컨 청소|보일러 점검
가스 점검|정수기 점검|가전 AS|휴대폰 개통|휴대폰 수리|연말정산 서류|종합소득세 신고|자동차세 납부|가계부 정리
집 보러 가기|전세 계약|부동산 방문|가구 배송|이케아|다이소 가기|올리브영|열쇠 복사|커튼 설치
혼자만의 시간|빨래방|마트 들렀다 오기|명절 선물 준비|제사 준비|김장|{ko_kid} 준비물 사기|주차 등록
""")
PERSONAL_MIXED = _t("""
Costco 장보기|laundry 하기|car wash 예약|택배 pickup|Amazon 반품|IKEA 가기|집 cleaning|rent 입금|bank 업무
Netflix 정주행|haircut 예약|nail 예약|{pet} 산책 walk|online 쇼핑|moving 준비|passport 갱신|DIY 가구 조립
쿠팡 order 확인|grocery 쇼핑|meal prep 하기|아이 pickup|self care 하는 날|강아지 grooming|AS 센터 방문|Wi-Fi 설치
""")

HEALTH_EN = _t("""
gym|hit the gym|gym - {body} day|leg day|upper body|{body} day|yoga|hot yoga|yoga with {en_name}|morning yoga
pilates|reformer pilates|spin class|SoulCycle|crossfit|HIIT|boxing class|climbing gym|bouldering|swim|lap swim
morning run|run {dist}|{dist} run|long run|interval training|tempo run|marathon training|half marathon|bike ride
cycling|tennis|hike|walk 10k steps|stretch|foam roll|doctor appointment|doctor's appointment|{en_doc} appointment
{en_doc} appt|see {en_doc}|Dr. {en_surname}|annual physical|checkup|blood test|bloodwork (fasting)|dentist
dental cleaning|teeth cleaning|orthodontist|root canal|therapy|therapy session|counseling|physio
physical therapy|chiro|flu shot|COVID booster|vaccine appointment|eye exam|allergy shots|dermatologist|mammogram
MRI|X-ray|follow-up with {en_doc}|pick up prescription|refill {en_med}|take {en_med}|personal trainer
trainer session with {en_name}|nutritionist|weigh-in|sleep by 11|physio for knee|back pain appointment|ENT
dermatology follow-up|lab results|hospital visit|recovery day|ice bath|{en_sport}|{en_sport} class
{en_sport} with {en_name}|{en_sport} session|swim lesson|couch to 5k|10 min meditation|stretching routine
""")
HEALTH_KO = _t("""
헬스|헬스장|헬스장 가기|운동|아침 운동|저녁 운동|하체 운동|상체 운동|등 운동|유산소|요가|요가 수업|아침 요가
필라테스|기구 필라테스|필라테스 {n}회차|수영|새벽 수영|수영 강습|러닝|한강 러닝|{dist} 러닝|조깅|마라톤 연습
크로스핏|클라이밍|복싱|테니스 레슨|배드민턴|등산|{ko_mountain} 등산|자전거 타기|스트레칭|만보 걷기|병원|병원 가기
병원 예약|{ko_doc}|{ko_doc} 예약|{ko_doc} 진료|{ko_doc} 가기|{ko_hospital} 진료|치과|치과 예약|스케일링
사랑니 발치|치과 정기검진|교정 치과|건강검진|종합검진|피검사|금식 (건강검진)|내시경|예방접종|독감 주사
코로나 백신|물리치료|도수치료|재활 운동|한의원 침 맞기|심리상담|상담 센터|정신과 상담|약 타기|약국|약 먹기
안과 검진|시력 검사|피부과 시술|다이어트 식단|식단 기록|인바디 측정|일찍 자기|명상|허리 치료|무릎 재활
산부인과 정기검진|재검|검사 결과 확인|{ko_sport}|{ko_sport} 하기|{ko_name:rang} {ko_sport}
헬스 {n}일차|{ko_sport} 강습|치과 치료 {n}회차|족저근막염 치료|목 디스크 치료|영양제 챙겨 먹기
""")
HEALTH_MIXED = _t("""
PT 세션|PT {n}회차|gym 가기|yoga 클래스|pilates 수업|헬스 leg day|running {dist} 뛰기|dentist 예약|checkup 예약
Dr. {en_surname} 진료|crossfit WOD 하기|HIIT 운동|spin 클래스|MRI 검사|X-ray 촬영|therapy 세션|vaccine 접종
home training 하기|cardio 30분|stretching 루틴|diet 식단|swimming 강습|tennis 레슨|PT 상담|inbody 측정|physio 치료
flu shot 맞기|meditation 10분|health check 결과|{ko_doc} follow-up
""")

SOCIAL_EN = _t("""
dinner with friends|dinner w/ {en_name}|dinner at {en_name}'s|drinks with {en_name}|drinks w/ {en_name} & {en_name}
happy hour|birthday party|{en_name}'s birthday|{en_name}'s bday party|surprise party for {en_name}|wedding
{en_name} & {en_name}'s wedding|rehearsal dinner|bachelor party|bachelorette|baby shower
housewarming at {en_name}'s|BBQ|BBQ at {en_name}'s|potluck|game night|board game night|movie night with {en_name}
movie with {en_name}|concert: {en_band}|{en_band} concert|karaoke|trivia night|pub quiz|brunch|brunch with {en_name}
Sunday brunch|{en_food} with {en_name}|{en_food} night|date night|date with {en_name}|first date
catch up with {en_name}|catch-up call with {en_name}|hang out with {en_name}|girls' night|guys' night|reunion
high school reunion|college reunion|family dinner|Thanksgiving dinner|Christmas party|NYE party|holiday party
Friendsgiving|picnic in the park|beach day with friends|road trip with {en_name}|{en_name} visiting|visit {en_name}
football game with {en_name}|watch the game at {en_place}|wine tasting|bar crawl|dinner party|host dinner
farewell drinks for {en_name}|going away party|anniversary dinner|meet {en_name} at {en_place}
video call with {en_name}|festival|{en_city} trip with friends|ski trip|camping with friends|neighbors over
playdate|party at {en_name}'s|drinks @ {en_place}|dinner @ {en_place}|{en_food} w/ the gang|cousin's wedding
{en_name}'s graduation party|poker night|book swap party|engagement party|welcome drinks for {en_name}
""")
SOCIAL_KO = _t("""
저녁 약속|친구랑 저녁|{ko_name:rang} 저녁|{ko_name:rang} 점심 약속|{ko_name:rang} 술|{ko_name:rang} 한잔|술 약속
한잔|생일 파티|생일파티|{ko_name} 생일|{ko_name} 생일 파티|{ko_name:i} 생일|동창회|고등학교 동창회
대학 동기 모임|동기 모임|친구들 송년회|동창 신년회|소개팅|데이트|{ko_name:rang} 데이트|결혼식
{ko_name} 결혼식|돌잔치|집들이|{ko_name}네 집들이|브런치|{ko_name:rang} 브런치|{ko_food} 먹기|{ko_food} 번개
{ko_name:rang} {ko_food}|치킨 맥주|번개 모임|모임|계모임|동호회 모임|카페 약속|영화 보기 ({ko_name})
{ko_name:rang} 영화|콘서트|{ko_band} 콘서트|뮤지컬 관람|노래방|볼링|보드게임 카페|방탈출|파티|홈파티
크리스마스 파티|연말 모임|명절 가족 모임|가족 외식|가족 여행|친구들이랑 여행|캠핑|글램핑|피크닉
한강 피크닉|야구 직관|축구 보러 가기|페스티벌|뒤풀이|커플 기념일|100일|결혼기념일 저녁
조카 돌잔치|친구 만나기|대학 선배 만남|{ko_name} 만나기|{ko_name} 보기|영상통화 ({ko_name})|동네 친구 모임
{ko_area}에서 약속|{ko_name:rang} {ko_area}|{ko_fam} 생신|{ko_fam} 생신 저녁|{ko_name}네 놀러가기
""")
SOCIAL_MIXED = _t("""
친구랑 dinner|{ko_name:rang} brunch|{ko_name} birthday party|생일 party|happy hour 한잔|치맥 w/ {ko_name}
BBQ 파티|home party 준비|{ko_name} wedding|동창 reunion|game night 보드게임|karaoke 가기|wine 한잔|pub crawl 홍대
concert 보러가기|Christmas 파티|친구들 year-end party|farewell 파티|housewarming 집들이|picnic 한강
drinks w/ 동기들|movie night ({ko_name})|club 가기|double date 약속|브런치 date
""")

LEARNING_EN = _t("""
{en_course} class|{en_course} lesson|{en_course} lecture|{en_course} homework|{en_course} 101|{en_course} tutoring
intro to {en_course}|Spanish class|online course|online course: {en_course}|Coursera - {en_course}
Udemy {en_course} module {n}|read chapter {n}|read ch. {n} of {en_book}|finish {en_book}|study group
study session|study for {en_exam}|{en_exam} prep|{en_exam} practice test|{en_exam} exam|midterm|final exam
midterm review|lecture|lecture {n}: {en_course}|seminar|webinar|webinar: {en_learn}|workshop: {en_learn}
tech talk on {en_learn}|lab|lab report|problem set {n}|pset {n} due|essay draft|thesis writing|paper reading group
journal club|office hours with professor|TA session|tutor session with {en_name}|piano lesson|guitar practice
piano practice|language exchange|Duolingo|practice {en_course}|flashcards|vocab review|watch lecture videos
MOOC week {n}|coding bootcamp|LeetCode practice|Kaggle competition|{en_course} assignment|assignment {n}
homework|library|library study|revision|exam revision|certification study - {en_exam}|public speaking class
writing workshop|art class|pottery class|photography course|drawing class|chess lesson|math tutoring
lecture notes|reading: {en_book}|learn {en_course}|{en_course} study|{en_learn} course|{en_learn} tutorial
grad seminar|study {en_course} with {en_name}|{en_exam} registration|class registration|research reading
""")
LEARNING_KO = _t("""
{ko_course} 수업|{ko_course} 강의|{ko_course} 공부|{ko_course} 과외|{ko_course} 학원|{ko_course} 스터디|토익 공부
토익 시험|토익 스터디|영어 회화|영어 회화 수업|전화영어|화상영어|코딩 스터디|알고리즘 스터디|강의|온라인 강의
인강|인강 듣기|강의 듣기|세미나|학술 세미나|웨비나|특강|교양 수업|전공 수업|과제|과제 제출|레포트 작성
조별 과제|팀플|팀플 회의|수업 발표 준비|중간고사|기말고사|시험 공부|자격증 시험 준비|{ko_exam} 준비
{ko_exam} 시험|{ko_exam} 접수|{ko_exam} 모의고사|책 읽기|독서|{ko_book} 읽기|{ko_book} {n}장 읽기|논문 읽기
논문 작성|졸업 논문|교수님 면담|도서관|도서관 공부|스터디 카페|스터디|스터디 모임|피아노 레슨|통기타 레슨
단어 암기|문제 풀이|기출 풀기|복습|예습|수강신청|학원|독학|한국사 공부|정보처리기사 필기|컴활 실기
코딩 테스트 준비|온라인 클래스|클래스101|원데이 클래스|공부|야자|학교 수업|수학 과외|영어 과외|강연
컨퍼런스 세션 듣기|사이버 강의|주식 공부|재테크 공부|{ko_course} {n}강|{ko_name:rang} 스터디|{n}주차 강의
""")
LEARNING_MIXED = _t("""
토익 study|English 회화|코딩 study|Python 강의|online 강의 듣기|Coursera 강의|Udemy {en_course} 강의|React 스터디
ML 스터디|알고리즘 study|LeetCode 풀기|webinar 참석|seminar 준비|{en_exam} 공부|OPIc 준비|JLPT N2 준비
AWS 자격증 공부|SQL 공부|TED 보기|paper 리딩|논문 review|강의 notes 정리|ch.{n} 읽기|HW 제출|midterm 공부
final 시험|lecture 복습|study 카페|영어 shadowing|Duolingo 하기
""")

OTHER_EN = _t("""
Busy|busy|Hold|hold|TBD|Block|blocked|Reminder|reminder|Misc|misc|Personal time?|placeholder
do not book|DNB|{en_name}|{en_name}?|call back|call {en_name}|check|check in|follow up|FYI|note|notes|stuff
things|todo|to do|tasks|out|away|OOO|unavailable|free|remember|don't forget!
New Event|Untitled|(No title)|#{num}|ref {num}|{en_name} ({num})|hold for {en_name}|see email
see calendar|TBC|ask {en_name}|ping {en_name}|sort out|check this|[hold]|pending|later|tmp|event
appointment|thing|the thing|prep|call|quick call|Q|travel time|buffer|wait|on hold|{en_name} {en_surname}
""")
OTHER_KO = _t("""
일정|메모|보류|자리 비움|자리비움|미정|확인|확인 필요|연락|연락하기|전화|전화하기|{ko_name}|{ko_name} 씨
{ko_name}님|{ko_name}한테 연락|{ko_name} 확인|약속|할 일|할일|기타|나중에|체크|잊지 말기|까먹지 말 것|알림
새 일정|제목 없음|임시|대기|외출|부재중|볼일|잠깐|고민|생각해보기|정리|그거|그거 하기|그 건
예약|{num}번|참고|기억하기|시간 비워두기|블록|비워둠|예정|준비|처리|문의|답장|일단 보류|{ko_boss}|이동
""")
OTHER_MIXED = _t("""
hold 일정|TBD 일정|block 시간|check 필요|{ko_name} call|reminder 알림|memo 확인|tmp 일정|일정 TBD|busy 표시|??? check
{ko_name} ping|follow up 하기|pending 건
""")

TEMPLATES: dict[tuple[str, str], tuple[str, ...]] = {
    ("WORK", "en"): WORK_EN, ("WORK", "ko"): WORK_KO, ("WORK", "mixed"): WORK_MIXED,
    ("PERSONAL", "en"): PERSONAL_EN, ("PERSONAL", "ko"): PERSONAL_KO, ("PERSONAL", "mixed"): PERSONAL_MIXED,
    ("HEALTH", "en"): HEALTH_EN, ("HEALTH", "ko"): HEALTH_KO, ("HEALTH", "mixed"): HEALTH_MIXED,
    ("SOCIAL", "en"): SOCIAL_EN, ("SOCIAL", "ko"): SOCIAL_KO, ("SOCIAL", "mixed"): SOCIAL_MIXED,
    ("LEARNING", "en"): LEARNING_EN, ("LEARNING", "ko"): LEARNING_KO, ("LEARNING", "mixed"): LEARNING_MIXED,
    ("OTHER", "en"): OTHER_EN, ("OTHER", "ko"): OTHER_KO, ("OTHER", "mixed"): OTHER_MIXED,
}

# ------------------------------------------------------------------- more wordings, following /work/shared/LABELS.md
EN_PLACE_TRIP = _t("home|Boston|LA|Chicago|Denver|Seattle|London|Tokyo|Busan|Jeju|Osaka|NYC|Portland|Vegas|DC|"
                   "Philly|Atlanta|Miami|Lisbon|Paris|Rome|the city|the coast|Austin")
KO_PLACE_TRIP = _t("부산|대구|대전|광주|강릉|제주|여수|전주|속초|경주|서울|수원|인천공항|김포|오사카|도쿄|후쿠오카|"
                   "방콕|다낭|고향")
EN_CHURCH = _t("church|Sunday service|Mass|bible study|small group|youth group|temple|mosque|Friday prayers|"
               "choir practice|Shabbat dinner|parish picnic")
KO_CHURCH = _t("교회|주일 예배|수요 예배|새벽 기도|성당 미사|구역 모임|셀 모임|성경 공부|청년부 모임|절에 가기|"
               "법회|성가대 연습")
_POOLS.update({"trip": EN_PLACE_TRIP, "ko_trip": KO_PLACE_TRIP, "church": EN_CHURCH, "ko_church": KO_CHURCH})

MORE: dict[tuple[str, str], tuple[str, ...]] = {
    ("WORK", "en"): _t("""
team dinner|team lunch|team drinks|client lunch|client dinner with {en_company}|vendor coffee|lunch w/ client
company town hall|all-hands meeting|quarterly all hands|conference: {en_learn} summit (for work)|trade show booth
overtime|working late|late shift|night shift|on-call|on call this week|pager duty|incident review|incident call
sev1 bridge|post-mortem|retro on the outage|payroll|approve timesheets|benefits enrollment for the team
teach {en_course} 101|teach my {en_course} class|lecture I'm giving on {en_learn}|grade midterms|grade papers
office hours for my students|guest lecture (I'm presenting)|run the {en_learn} workshop|flight to {en_city} for the client
train to {en_city} for the {en_company} meeting|site visit at {en_company}|customer visit|sales call
pitch to {en_company}|interview a candidate|panel interview|hiring sync|write the quarterly report|budget sign-off
review contract|legal review|compliance training|security training|focus time|deep work block: {project}
write docs for {project}|standup w/ {en_team}|sync w/ {en_name}|call w/ {en_company}|prep for board meeting
quarterly planning|annual review|mid-year review|promo packet|team building|team offsite day 2|kickoff w/ {en_company}
"""),
    ("WORK", "ko"): _t("""
회식|팀 회식|부서 회식|회사 송년회|회사 신년회|팀 점심|팀 저녁|거래처 점심|고객사 저녁 식사|업체 커피 미팅
야근|주말 출근|특근|당직 근무|온콜|장애 대응|장애 회의|사후 분석 회의|급여 처리|연말정산 (회사)|인사 발령 공지
전사 타운홀|사내 간담회|컨퍼런스 참석 (회사)|박람회 부스 운영|{ko_city} 출장 (고객사 미팅)|고객사 방문 ({ko_company})
강의하기|수업 진행 ({ko_course})|과외 수업 하기|학생 과외|채점|시험 감독|보강 수업 진행|학부모 상담 (담임)
팀장님 보고|{ko_boss} 결재|부서 워크숍|신규 입사자 교육 진행|보안 교육|법정의무교육|업무 미팅|주간 업무 보고
{ko_project} 배포 준비|{ko_project} 리뷰|고객 클레임 대응|계약 미팅|협력사 미팅 ({ko_company})|IR 미팅
"""),
    ("WORK", "mixed"): _t("""
팀 회식 dinner|client 미팅|{en_company} 미팅|on-call 당번|incident 회의|post-mortem 미팅|town hall 참석
payroll 마감|1:1 with {ko_boss}|workshop 진행|강의 prep|야근 OT|weekly sync|{ko_company} pitch
"""),
    ("PERSONAL", "en"): _t("""
renew gym membership|cancel gym membership|gym membership renewal|vet|vet visit|vet appointment for {pet}
take {pet} to the vet|{pet} vaccines at the vet|feed {pet}|pet sitter|dog walker|grooming for {pet}|buy dog food
pick up {en_kid}|pick up the kids|kids pickup|school drop-off|daycare pickup|{en_kid} pickup|parent-teacher meeting
PTA meeting|school forms|return library books|library books due|shoe shopping|buy new shoes|phone plan change
switch phone plan|new phone contract|car registration|car insurance|renew license|renew lease|pay bills|pay electric bill
water bill|tax return|errands|personal errands|run errands|errands downtown|hardware store run
dry cleaning|tailor|key cutting|locksmith|landlord visit|movers|move out|pack up|unpack|declutter|closet cleanout
dishes|ironing|change sheets|clean fridge|fix sink|fix leaky faucet|assemble IKEA shelf|hang pictures
order groceries online|farmers market|bulk shopping|return {en_item}|exchange {en_item}|Amazon return
"""),
    ("PERSONAL", "ko"): _t("""
헬스장 재등록|헬스장 회원권 연장|PT 재등록|헬스장 등록|동물병원|동물병원 예약|{pet} 예방접종|{pet} 동물병원|강아지 사료 주문
고양이 모래 갈기|{pet} 목욕|펫시터|애견 호텔 맡기기|{ko_kid} 하원|{ko_kid} 픽업|아이 등원|어린이집 등원|학원 픽업
학부모 상담|학교 상담|가정통신문 제출|도서관 책 반납|책 반납|신발 사러 가기|운동화 사기|요금제 변경|휴대폰 요금제 변경
통신사 방문|자동차 검사|면허 갱신|보험 갱신|공과금 납부|세금 납부|재산세 납부|볼일 보기|은행 볼일
세탁소|수선집|열쇠 수리|집주인 만나기|이사 업체 견적|짐 정리|설거지|다림질|이불 빨래|냉장고 청소|수리 기사 방문
싱크대 수리|가구 조립|온라인 장보기|시장 보기|반품 보내기|{ko_kid} 준비물 챙기기|명절 선물 준비|제사 장보기
"""),
    ("PERSONAL", "mixed"): _t("""
gym 재등록|vet 예약|{pet} vet|kids 픽업|school pickup 하원|phone plan 변경|library 반납|errands 보기|shoe 쇼핑
"""),
    ("HEALTH", "en"): _t("""
flu shot at the office|office flu shot|company health check|annual health screening|psychiatrist|psychiatrist appt
take meds|take my pills|meds reminder|take vitamins|marathon training|long run (marathon training)|training run
dentist appt|dental checkup|doctor|doc appt|GP appointment|specialist appointment|cardiologist follow-up
colonoscopy|endoscopy|blood draw|biopsy|minor surgery|pre-op appointment|post-op check|stitches out
eye doctor|new glasses exam|hearing test|skin check|physio session|massage therapy|acupuncture|sports massage
gym session|workout|evening workout|lift|weights|strength training|leg workout|core workout|treadmill
swim laps|pool|open water swim|trail run|park run|walk|evening walk|hike with {en_name}|rock climbing
sleep routine|bed by 10:30|wind down|meditate|breathing exercises|journaling for mental health|therapy w/ {en_name}
"""),
    ("HEALTH", "ko"): _t("""
회사 건강검진|사내 독감 예방접종|건강검진 결과 상담|정신과|정신과 진료|약 챙겨먹기|약 먹기 알림|비타민 먹기|마라톤 훈련
하프 마라톤 준비|장거리 러닝|치과 검진|치과 치료|내과 진료|병원 진료|전문의 진료|대학병원 외래|대장내시경|위내시경
피검사 (공복)|조직검사|수술 전 검사|수술|실밥 제거|안경 맞추기 (시력검사)|청력 검사|점 빼기 (피부과)|물리치료 받기
마사지|침 맞기|스포츠 마사지|헬스장 운동|근력 운동|웨이트|하체|코어 운동|러닝머신|수영 강습|수영장|트레일 러닝
산책|저녁 산책|걷기 운동|등산 ({ko_mountain})|클라이밍 가기|수면 습관|11시 취침|명상하기|호흡 명상|상담 치료
"""),
    ("HEALTH", "mixed"): _t("""
gym 운동|health check 건강검진|flu shot 접종|meds 챙기기|marathon 훈련|dentist 치과|physio 물리치료|running 5k
"""),
    ("SOCIAL", "en"): _t("""
visit grandma|visit grandparents|grandparents' place|visit {en_fam}|call {en_fam}|call mom|call dad|phone grandma
FaceTime {en_fam}|video call with my parents|dinner at mom's|lunch at grandma's|trip to grandma's|family visit
brunch with dad|brunch with {en_fam}|meet the in-laws|dinner with the in-laws|Sunday dinner at my parents'
family reunion|cousin's birthday|niece's birthday party|nephew's recital|{en_fam}'s birthday|parents' anniversary dinner
{church}|church picnic|community potluck|neighborhood meeting|volunteer at the food bank|volunteering with {en_name}
soup kitchen shift|beach cleanup with the group|charity 5k with friends|book club|book club at {en_name}'s
help {en_name} move|helping {en_name} move|baby visit at {en_name}'s|funeral|memorial service|wake for {en_name}'s dad
wedding reception|{en_name}'s wedding|date night w/ {en_name}|anniversary|dinner party at ours|hosting friends
coffee with {en_name}|tea with {en_name}|lunch with {en_name}|catch up w/ {en_name}|drinks after work w/ friends
"""),
    ("SOCIAL", "ko"): _t("""
할머니 댁 방문|할머니댁|할아버지 댁|외할머니 댁 가기|본가 가기|부모님 댁 방문|부모님 뵈러 가기|엄마한테 전화|아빠랑 통화
{ko_fam}한테 전화|{ko_fam} 집 방문|가족 식사|가족 모임|부모님이랑 저녁|아빠랑 브런치|시댁 방문|처가 방문|상견례
추석 큰집|설날 세배|성묘|제사|명절 큰집 가기|조카 생일|{ko_fam} 생일|부모님 결혼기념일 식사|{ko_church}
교회 모임|성당 모임|봉사활동|연탄 봉사|유기견 봉사|반상회|동네 모임|독서 모임|북클럽|{ko_name} 이사 도와주기
장례식장|조문|발인|{ko_name} 결혼식 참석|돌잔치 참석|{ko_name:rang} 커피|{ko_name:rang} 점심|{ko_name:rang} 카페
{ko_name:rang} 만남|친구 집들이|친구 생일|기념일 데이트|여자친구랑 저녁|남자친구 만나기|친구들이랑 캠핑
"""),
    ("SOCIAL", "mixed"): _t("""
grandma 댁 방문|family dinner 가족|call 엄마|church 예배|volunteer 봉사|book club 북클럽|{ko_name} 이사 help
"""),
    ("LEARNING", "en"): _t("""
AWS certification exam|cloud certification exam|Azure exam|CKA exam|PMP exam|{en_exam}|{en_exam} test day
driving test|written driving test|certification exam|cert exam prep|mock exam|practice exam|quiz|final
CPR course|first aid course|cooking class|baking class|piano lesson|guitar lesson|violin lesson|drum lesson
singing lesson|dance class|language class|Spanish lesson|French tutor|Korean class|Japanese lesson|ESL class
night class|evening class|course: {en_learn}|bootcamp day {n}|online course {en_learn}|self-paced course
watch {en_learn} course|study|study time|study hall|homework time|do homework|research|read papers|thesis
dissertation work|seminar on {en_learn}|workshop on {en_learn}|conference talk (learning)|coding practice
leetcode|algorithms practice|typing practice|practice piano|practice guitar|language exchange w/ {en_name}
"""),
    ("LEARNING", "ko"): _t("""
자격증 시험|{ko_exam}|{ko_exam} 응시|{ko_exam} 시험일|AWS 자격증 시험|클라우드 자격증 시험|정보처리기사 실기
운전면허 시험|운전면허 도로주행|모의고사|쪽지시험|시험|심폐소생술 교육|응급처치 교육|요리 수업|베이킹 클래스
피아노 레슨|기타 레슨|바이올린 레슨|드럼 레슨|보컬 레슨|댄스 수업|영어 수업|일본어 수업|중국어 학원|전화 영어
야간 수업|평생교육원 수업|부트캠프|온라인 강좌|인강 {n}강|자기계발 공부|공부하기|과제하기|숙제|연구실 미팅
논문 쓰기|학회 발표 듣기|세미나 참석|워크숍 참석 (교육)|코딩 연습|알고리즘 문제|타자 연습|피아노 연습|언어 교환
"""),
    ("LEARNING", "mixed"): _t("""
AWS 자격증 exam|cert 시험|CPR 교육|piano 레슨|cooking class 요리|online course 수강|LeetCode 연습|study 시간
"""),
    ("OTHER", "en"): _t("""
flight home|flight back|flight to {trip}|fly to {trip}|flight {letter}{letter} {num}|layover in {trip}|red-eye to {trip}
airport|airport transfer|drive to the airport|uber to airport|train to {trip}|train home|train back|Amtrak to {trip}
bus to {trip}|ferry|drive to {trip}|road to {trip}|on the road|driving|commute|drive to work|drive home
travel|travel day|travel to {trip}|in transit|check-in at hotel|hotel check-out|trip to {trip}|{trip} trip
vacation|on vacation|PTO|day off|holiday|out of office|OOO - {en_name}|blocked|Blocked|Do not book|Do not schedule
hold for later|tentative hold|calendar hold|buffer time|lunch break|break|free time|reminder|Remember|to-do
misc errand?|TBD - {en_name}|pending confirmation|placeholder for {en_name}|save the date|note to self|check email
"""),
    ("OTHER", "ko"): _t("""
{ko_trip} 가는 비행기|비행기|{ko_trip} 비행기|귀국 비행기|공항 이동|공항 가기|인천공항|KTX 이동|KTX|{ko_trip} KTX
SRT 타고 {ko_trip}|{ko_trip} 내려가기|{ko_trip} 올라가기|기차|고속버스|버스 이동|운전|출근|퇴근|출퇴근|이동 시간
{ko_trip} 여행|여행|휴가|여름 휴가|연차|반차|오전 반차|오후 반차|공휴일|부재|외근 이동|호텔 체크인|체크아웃
선약|기타|보류|블록|일정 비워두기|잡지 말 것|예약 불가|대기|알림|리마인더|메모해두기|확인하기|할 일 목록|점심시간
"""),
    ("OTHER", "mixed"): _t("""
flight {ko_trip}|KTX 이동 train|airport 이동|OOO 휴가|PTO 연차|travel 일정|commute 출근|hold 블록|reminder 알림
"""),
}
for _key, _extra in MORE.items():
    TEMPLATES[_key] = TEMPLATES[_key] + _extra

# ---------------------------------------------------------------- wider lexicon: kinds of events real calendars hold
EN_GYM = _t("F45|Orangetheory|Barry's|SoulCycle|Peloton|CorePower|Crunch|the Y|LA Fitness|Anytime Fitness|Solidcore|"
            "Rumble|Equinox|Planet Fitness|the rec center|the CrossFit box")
EN_WORKOUT = _t("push day|pull day|arms day|chest day|back and biceps|shoulder day|full body|glute day|mobility work|"
                "Tabata|kettlebells|circuit training|jump rope|stairmaster|elliptical|indoor cycling|Zwift ride|"
                "Peloton ride|barre workout|zumba class|aqua aerobics|water aerobics|rec league soccer|pickup hoops|"
                "pickup soccer|intramural volleyball|driving range|surf session|snowboarding|ice skating|BJJ open mat|"
                "muay thai|kickboxing class|dance cardio|rowing|trail run|stair climb|bootcamp workout|spin")
EN_MED2 = _t("Zoloft|Lexapro|metformin|insulin|Adderall|antidepressant|iron pills|B12|fish oil|probiotics|allergy pills|"
             "migraine meds|ADHD meds|statin|antihistamine|eye drops|prenatal vitamins|magnesium|melatonin")
EN_PROC = _t("CT scan|MRI|ultrasound|sonogram|echocardiogram|EKG|stress test|sleep study|allergy test|glucose test|"
             "A1C test|cholesterol panel|blood panel|pap smear|pelvic exam|colonoscopy|bone density scan|biopsy|"
             "mole removal|skin check|hearing test|LASIK consult|cataract surgery|wisdom teeth removal|filling|crown|"
             "root canal|braces adjustment|Invisalign check|night guard fitting|cortisone shot|IV drip|cast removal|"
             "knee scope|mammogram|thyroid ultrasound|physical exam")
EN_CLINIC = _t("St. Luke's|Mount Sinai|the imaging center|Kaiser|the clinic|Quest|LabCorp|CityMD|One Medical|"
               "the hospital|radiology|Stanford Health|the women's clinic|the eye center")
EN_REL = _t("Aunt Carol|Uncle Ray|Grandpa Joe|cousin Mike|Nana|Grandma Rose|my godmother|my nephew|my niece|"
            "Auntie May|Uncle Bob|cousin Jen|my stepdad|my grandparents")
EN_AIRLINE = _t("UA|AA|DL|KE|OZ|BA|JL|NH|SQ|AC|LH|WN|B6|AS|7C|LJ|TW")
EN_AIRPORT = _t("ICN|GMP|LAX|SFO|JFK|SEA|ORD|NRT|HND|KIX|LHR|CDG|BOS|ATL|YVR|SIN|HKG|CJU|PUS|EWR|DFW")
EN_COUNTRY = _t("Japan|Italy|Mexico|Hawaii|Bali|Spain|Portugal|Vietnam|Thailand|Iceland|Greece|Cancun|Canada|Taiwan|"
                "Europe|Korea|Australia")
EN_HOLIDAY = _t("Memorial Day|Presidents' Day|MLK Day|Juneteenth|Veterans Day|Columbus Day|Good Friday|Boxing Day|"
                "Easter Monday|New Year's Day|bank holiday|public holiday|national holiday|Independence Day")
KO_HOLIDAY = _t("삼일절|현충일|광복절|개천절|한글날|어린이날|석가탄신일|대체공휴일|임시공휴일|신정|성탄절|근로자의 날")
KO_AIRLINE = _t("대한항공|아시아나|제주항공|진에어|티웨이|에어부산")
EN_STORE = _t("Trader Joe's|Whole Foods|Aldi|Safeway|H Mart|Kroger|Walmart|Publix|Wegmans|Sprouts|CVS|Walgreens")
EN_SHIFT_PLACE = _t("the hospital|the ER|the store|the cafe|Starbucks|the restaurant|the warehouse|the clinic|the ward|"
                    "the bar|Target|the front desk")
_POOLS.update({"gym_brand": EN_GYM, "workout": EN_WORKOUT, "en_med2": EN_MED2, "en_proc": EN_PROC,
               "en_clinic": EN_CLINIC, "en_rel": EN_REL, "airline": EN_AIRLINE, "apt": EN_AIRPORT,
               "country": EN_COUNTRY, "holiday": EN_HOLIDAY, "ko_holiday": KO_HOLIDAY, "ko_airline": KO_AIRLINE,
               "store": EN_STORE, "shift_place": EN_SHIFT_PLACE})

WIDER: dict[tuple[str, str], tuple[str, ...]] = {
    ("WORK", "en"): _t("""
night shift at {shift_place}|day shift at {shift_place}|closing shift|opening shift|double shift|swing shift
shift @ {shift_place}|work shift|cover {en_name}'s shift|cold calling|prospecting calls|sales calls block
mentor {en_name} (intern)|mentoring session w/ new hire|intern check-in|skip-level w/ {en_name}|catch up w/ manager
chat w/ my manager|teach {en_sport} class|teach yoga @ 7|sub for {en_name}'s {en_sport} class|clear inbox
inbox cleanup|answer emails|reply to {en_name}'s email|host a webinar for customers|run the customer webinar
final round interview - {en_name}|onsite loop for {en_name}|interview panel (I'm interviewing)|SOC2 audit
ISO audit prep|audit walkthrough w/ {en_company}|lesson planning|grade homework for my class|teach section {n}
contract signing w/ {en_company}|code freeze for {ver}|release freeze|backlog cleanup|jira grooming
open house (listing)|showing at {street}|listing appointment w/ sellers|company holiday party|office party
launch party for {project}|company picnic|team happy hour|work anniversary lunch|offsite dinner w/ the team
WFH day|work from home|remote work day|quarterly kickoff|sales kickoff|partner call w/ {en_company}|renewal call - {en_company}|QBR prep|write release notes
""" ),
    ("WORK", "ko"): _t("""
클라이언트 미팅|클라이언트 콜 ({ko_company})|고객사 콜|마감조 근무|미들조|오전 근무|야간 근무|주간 근무|근무
카페 알바|편의점 알바|알바 가기|알바 ({ko_area})|과외 하러 가기|과외 수업 (내가 선생)|학원 강의 (강사로)|수업하러 가기
특강 진행|강연 (연사)|{ko_city} 출장 가는 날|출장 복귀|자재 발주|발주서 작성|메일 확인 및 회신|메일 회신하기
면접관 참석|면접 진행 (면접관)|현장 미팅|현장 실사|공사 현장 점검|4대보험 처리|부가세 신고 (회사)|원천세 신고
재택 근무일|집에서 근무 (재택)|철야 작업|밤샘 작업|주말 근무|{ko_boss} 면담|거래처 전화|{ko_company} 담당자 통화|재고 정리|매장 오픈 준비
""" ),
    ("WORK", "mixed"): _t("""
client 콜|night shift 근무|{ko_company} vendor 콜|audit 준비|webinar 진행 (host)|알바 shift|inbox 정리
""" ),
    ("PERSONAL", "en"): _t("""
take {en_kid} to the dentist|{en_kid}'s pediatrician appt|{en_kid}'s checkup|{en_kid}'s dentist appt
take {en_fam} to the doctor|drive {en_fam} to the hospital|take {en_kid} to swim class|drop {en_kid} at ballet
{en_kid}'s field trip form|sign school forms|pack {en_kid}'s lunch|Venmo {en_name} back|send money to {en_fam}
pay back {en_name}|transfer to savings|rebalance portfolio|401k rollover|IRA contribution|check credit score
call the bank about fraud|call the insurance company|insurance claim|file a claim|tuition due|pay tuition
student loan payment|visa appointment|embassy appointment|green card biometrics|early voting|register to vote
jury summons|buy a birthday present for {en_fam}|gift shopping|order a gift for {en_name}'s wedding
{store} run|{store}|groceries at {store}|pest control visit|HVAC service|gutter cleaning|shovel snow
salt the driveway|back up my phone|update laptop|computer repair|Apple Store appointment|phone screen repair
brow wax|eyebrow threading|lash appointment|mani pedi|waxing appointment|put the bins out|trash & recycling
pack suitcase|weekly planning|monthly budget|meal plan for the week|dog training class|obedience class for {pet}
{pet}'s vet checkup|{pet} at the groomer|pick up {pet} from boarding|refinance call|mortgage payment
""" ),
    ("PERSONAL", "ko"): _t("""
실손보험 청구|보험금 청구|{pet} 수술|{pet} 중성화 수술|{pet} 스케일링|과태료 납부|범칙금 내기|주차 위반 과태료
확정일자 받으러 가기|등기부등본 확인|{ko_kid} 소아과|{ko_kid} 병원 데려가기|{ko_fam} 병원 모시고 가기
{ko_kid} 예방접종 데려가기|청약 신청|주택청약 넣기|주식 정리|적금 가입|ISA 계좌 개설|도서관 책 반납일|책 연체
네일 예약|속눈썹 연장|눈썹 문신|왁싱|소아과 ({ko_kid})|{pet} 미용 예약|인감증명서 떼기|자동차 리스 상담
""" ),
    ("PERSONAL", "mixed"): _t("""
{pet} vet 진료|{ko_kid} 소아과 checkup|보험 claim 청구|tuition 납부|Apple store 수리|nail 예약
""" ),
    ("HEALTH", "en"): _t("""
{gym_brand} class|{gym_brand}|{gym_brand} w/ {en_name}|{workout}|{workout} w/ {en_name}|{workout} at {gym_brand}
{en_sport} w/ {en_name}|{en_sport} w/ {en_fam}|run club|running club w/ {en_name}|gym w/ {en_name}|climbing w/ {en_name}
{en_med2} refill|meds: {en_med2}|{en_med2} 8am|pill reminder - {en_med2}|remember {en_med2}|start {en_med2}
{en_proc} appt|{en_proc} at {en_clinic}|{en_proc} @ {en_clinic}|schedule {en_proc}|{en_proc} (fasting)
{en_proc} follow-up|urgent care visit|walk-in clinic|ER visit|emergency room|ER follow-up|sick visit
CBT session|DBT group|grief counseling|couples therapy|psych eval|talk therapy|NA meeting|AA mtg|sponsor call
breathwork|Calm meditation|gratitude journal|drink 2L of water|rest day|recovery walk|sauna + cold plunge
pharmacy pickup|pick up meds at {store}|dermatology appt|OB appt|prenatal checkup|pediatric dentist (me)
""" ),
    ("HEALTH", "ko"): _t("""
갑상선 검사|초음파 검사|복부 초음파|유방 초음파|CT 촬영|MRI 촬영|수면다원검사|혈압약 먹기|당뇨약|고지혈증 약
우울증 약|약 처방|처방전 받기|폼롤러 스트레칭|마사지건|새벽 헬스|새벽 러닝|아침 수영|저녁 수영|자유수영|볼더링 가기
클라이밍장|조기 축구회|주말 풋살|배드민턴 클럽|줌바 댄스|에어로빅|아쿠아로빅|심리 상담 센터|상담 예약 (심리)
정신과 약 타기|응급실|응급실 가기|야간 진료|약국 들르기|약국 가기|영양제 주문 (건강)|금연 클리닉|한방 치료
{ko_name:rang} 러닝|{ko_name:rang} 클라이밍|{ko_fam}랑 등산|PT 받기|헬스 PT|필라테스 그룹 수업|산후 검진
""" ),
    ("HEALTH", "mixed"): _t("""
gym PT|morning swim 수영|{gym_brand} 운동|CT 검사|MRI 찍기|urgent care 방문|{ko_name:rang} tennis|meds 복용
""" ),
    ("SOCIAL", "en"): _t("""
FaceTime w/ {en_name}|call {en_name}, been ages|phone call w/ {en_fam}|call {en_rel}|visit {en_rel}|{en_rel}'s birthday
Sunday Mass|evening Mass|Mass at St. {en_name}'s|bible study group|choir rehearsal|youth group night|church service
alumni happy hour|alumni event|10-year reunion|class reunion|D&D night|D&D campaign|tabletop night|board games w/ {en_name}
{en_kid}'s recital|{en_kid}'s dance recital|{en_kid}'s school play|{en_kid}'s soccer game|{en_kid}'s baseball game
{en_kid}'s graduation|{en_kid}'s birthday party|Habitat for Humanity build|food drive|volunteer shift at the shelter
seder at {en_name}'s|Easter brunch|Thanksgiving at {en_fam}'s|Diwali party|Eid dinner|Hanukkah party
Christmas Eve w/ family|white elephant gift swap|ugly sweater party|aquarium w/ the kids|zoo day w/ {en_fam}
family day at the park|meet {en_name}'s parents|dinner w/ {en_name}'s family|Rotary club meeting|Lions club
girls' trip to {trip}|weekend in {trip} w/ friends|trip w/ the guys|concert w/ {en_name}|see {en_band} w/ {en_name}
visit {en_name} in the hospital|visit grandpa at the nursing home|{en_name}'s baby shower|wedding shower
""" ),
    ("SOCIAL", "ko"): _t("""
새벽기도회|수요기도회|성경공부 모임|큐티 모임|주일 미사|저녁 미사|병문안 가기|{ko_fam} 병문안|{ko_name} 병문안
조문 가기|문상 가기|장례식 조문|가족여행 ({ko_trip})|{ko_trip} 가족여행|설 연휴 큰집|추석 연휴 고향|시골 할머니댁
제사 지내기|{ko_kid} 운동회|{ko_kid} 학예회|{ko_kid} 재롱잔치|{ko_kid} 졸업식|{ko_kid} 입학식|망년회 (친구들)
친구들 송년회|동네 반상회|번개 할 사람?|혹시 모임|{ko_name:rang} 여행|친구들이랑 {ko_trip}|동아리 MT|과 MT
""" ),
    ("SOCIAL", "mixed"): _t("""
{ko_name} FaceTime|church 수요예배|bible study 모임|family trip {ko_trip}|alumni 모임|{ko_kid} recital
""" ),
    ("LEARNING", "en"): _t("""
recitation section|discussion section for {en_course}|lab section|{en_course} lab|TA office hours
office hours w/ Prof. {en_surname}|prof {en_surname} office hours|thesis committee meeting|dissertation proposal
qualifying exam|quals prep|thesis defense practice|lit review for thesis|annotated bibliography|read {n} papers
anki reviews|quizlet|flashcards on anki|khan academy {en_course}|Brilliant lesson|Codecademy|edX {en_course}
Skillshare class|MasterClass|Duolingo streak|duo lesson|{en_exam} prep course|{en_exam} prep book|prep for {en_exam}
study for {en_course} final|review notes for {en_course}|review lecture notes|{en_course} lab report due
freshman orientation|college info session|MBA class|mock interview practice|study system design
knife skills class|sourdough workshop|watercolor class|calligraphy class|sewing class|woodworking class
improv class|acting class|sign language class|python meetup talk|tech meetup talk|TED talk|teacher training
instructor certification course|yoga certification module|CPR recert|WSET course|bar prep|LSAT prep
""" ),
    ("LEARNING", "ko"): _t("""
코테 공부|코딩테스트 대비|수능 공부|수능 모의고사|모의 수능|정처기 실기 준비|정처기 공부|한능검 준비|조모임 (팀플)
조별 모임|조모임 회의|서예 수업|캘리그라피 수업|잠들기 전 독서 30분|독서 30분|하루 한 챕터 읽기|독서실|독서실 가기
수학 과외 수업|영어 과외 받기|과외 받기|인강 복습|오답노트|필기 정리|학교 도서관|전공 공부|대학원 수업|논문 리딩
어학당|한자 공부|미술 학원|{ko_exam} 필기|{ko_exam} 실기|자격증 공부|수업 듣기|{ko_course} 원데이 클래스
""" ),
    ("LEARNING", "mixed"): _t("""
코테 prep|LeetCode 코테|수능 D-{n2}|anki 단어|{en_exam} 모의고사|Khan Academy 강의|thesis 작성
""" ),
    ("OTHER", "en"): _t("""
{airline} {num}|{airline}{num} {apt}-{apt}|flight {apt} to {apt}|{apt} → {apt}|land at {apt}|depart {apt}
arrive in {trip}|landing|boarding|rental car pickup|return rental car|staycation|{country} trip|trip to {country}
vacation - {country}|{trip} vacation|{holiday}|{holiday} (office closed)|office closed|company holiday
no meeting day|no meetings|deadline|urgent|important|asap|maybe|optional|tentative|pick up|drop off|drive
errand?|{en_name}?|{en_name} - ?|on leave|parental leave|sick day|out sick|shuttle to {apt}
""" ),
    ("OTHER", "ko"): _t("""
{ko_trip} 항공편|{ko_airline} {num}|KE{num}|OZ{num}|김포-제주|인천→{ko_trip}|도착|출발|착륙|{ko_holiday}
선약 있음|선약 (개인)|마감|긴급|중요|아마|혹시|테스트|개인 일정|개인 용무|병가|출산휴가|육아휴직|휴무|쉬는 날
""" ),
    ("OTHER", "mixed"): _t("""
{airline} {num} 비행기|{apt}-{apt} flight|OOO 병가|{holiday} 휴일|rental car 픽업|deadline 확인
""" ),
}
for _key, _extra in WIDER.items():
    TEMPLATES[_key] = TEMPLATES[_key] + _extra

# ---------------------------------------------------- LABELS.md hard cases, in more of the ways people type them
# Families dev CV (bench/dev_cv.py --errors) found thin: a class you TEACH (WORK) vs one you TAKE (LEARNING);
# a day off, a trip or a flight whose stated purpose decides the class; taking a parent to the doctor (PERSONAL) vs
# visiting someone in hospital (SOCIAL); pick-up games (HEALTH) vs pick-ups (PERSONAL); a grad student's advisor and
# committee (LEARNING); church choirs (SOCIAL); focus blocks (WORK); bare clock times (OTHER, nothing knowable).
KO_SUBJECT = _t("국어|수학|영어|과학|사회|역사|체육|음악|미술|도덕|물리|화학|생명과학|지구과학|기술가정|정보|한문")
EN_BALL = _t("basketball|hoops|soccer|volleyball|ultimate|frisbee|futsal|football|hockey|b-ball")
EN_STORE_SHORT = _t("TJs|TJ's run|WFM|H Mart|HMart|Costco|Sam's Club|BJ's|HEB|Aldi|Wegmans|Safeway|Kroger|Target")
_POOLS.update({"ko_subject": KO_SUBJECT, "ball": EN_BALL, "store_short": EN_STORE_SHORT, "ko_surname": KO_SURNAME})
_DYNAMIC.update({
    "grade": lambda r: str(r.randint(1, 6)),
    "ban": lambda r: str(r.randint(1, 12)),
    "period": lambda r: str(r.randint(1, 7)),
    "en_clock": lambda r: r.choice((f"{r.randint(1, 12)}{r.choice(('am', 'pm', 'pm'))}",
                                    f"{r.randint(1, 12)}:{r.choice(('00', '15', '30', '45'))}{r.choice(('', 'pm'))}",
                                    f"at {r.randint(1, 12)}", f"@{r.randint(1, 12)}")),
    "ko_clock": lambda r: r.choice((f"{r.choice(('오전', '오후'))} {r.randint(1, 12)}시", f"{r.randint(1, 12)}시",
                                    f"{r.randint(1, 12)}시 반", f"{r.randint(1, 12)}시쯤")),
})

HARD: dict[tuple[str, str], tuple[str, ...]] = {
    ("WORK", "en"): _t("""
teach {en_course}|teaching {en_course} sec {letter}|class I teach: {en_course}|my {en_course} section (teaching)
give the {en_course} lecture|lecture I'm giving: {en_course} {n}01|guest lecture (my talk) - {en_learn}
tutoring {en_name} in {en_course}|tutor {en_name} ({en_course}, paid)|private student {en_name} - {en_course}
lesson w/ my student {en_name}|{en_name}'s {en_course} lesson (I teach)|lesson plans|lesson plans for wk {n}
write lesson plans|prep lesson plan: {en_course}|unit plan for {en_course}|grade quizzes|grade {en_course} finals
grading - period {period}|faculty meeting|department meeting (faculty)|curriculum meeting|substitute teaching
sub for period {period}|proctor the {en_course} exam|exam proctoring|write exam questions for my class
office hours for my {en_course} students|my students' presentations (grading)
business trip flight {apt}-{apt}|work trip to {trip}|flight to {trip} for work|{airline} {num} - {en_company} visit
train to {trip} for the {en_company} meeting|drive to {en_company} HQ|travel to {en_company} site
flight back from the {en_company} onsite|fly to {en_city} - client workshop
focus block|focus block: {en_topic} doc|focus time - {project}|heads-down time: {project}|deep work: {en_topic}
focus time (coding)|maker time (coding)|writing block: {project} spec|heads down on {project}
check-in w/ my boss|coffee w/ my manager|boss 1:1|contract signing|{en_company} contract signing
sign the {en_company} contract|contract signing - {en_company}
"""),
    ("WORK", "ko"): _t("""
{grade}학년 {ban}반 수업|{grade}학년 {ban}반 {ko_subject}|{period}교시 {grade}-{ban}|{grade}-{ban} {ko_subject} 수업
{period}교시 {grade}학년 {ban}반|{ban}반 {ko_subject} 수업 들어가기|{grade}학년 {ko_subject} 수업 (담당)
수업 준비 (교안)|교안 작성|수업 지도안 작성|학습지도안|담임 조회|조회/종례|교무회의|교직원 회의|학년 협의회
학생 상담 ({ko_name})|수행평가 채점|시험 문제 출제|중간고사 출제|기말고사 출제|{period}교시 시험 감독|생기부 작성
학생부 기록|방과후 수업 진행|보충 수업 진행 (강사)|학원 {ko_subject} 수업 (강사)|학원 강의 - {ban}반|학원 출근 (강사)
{ko_course} 수업 (강사)|{ko_name} 학생 과외|과외 학생 {ko_name}|과외하러 {ko_area}|과외 (내가 선생님)
출강|외부 출강|{ko_city} 출강|대학 출강 ({ko_subject})|시간강사 강의|강의 ({ko_course}, 강사로)|특강 강사
교육 진행 (강사)|신입 교육 강의 진행
{ko_trip} 출장 비행기|{ko_trip} 출장 KTX|출장 - {ko_trip} 항공편|{ko_trip} 출장 (고객사)|출장 가는 비행기 ({ko_trip})
김포→{ko_trip} 출장|{ko_trip} 지사 출장|출장 복귀 비행기|{ko_company} 방문 출장
집중 근무 시간|집중 시간 ({ko_project})|포커스 타임|딥워크 - {ko_topic} 문서|집중 업무 블록
계약서 서명|{ko_company} 계약 서명
"""),
    ("WORK", "mixed"): _t("""
{grade}학년 {ban}반 class|lesson plan 작성|강의 prep (내 수업)|tutoring 학생 {ko_name}|{ko_trip} 출장 flight
business trip {ko_trip}|focus time 집중|deep work 블록|contract 서명
"""),
    ("LEARNING", "en"): _t("""
thesis proposal meeting|proposal defense|committee meeting (thesis)|meeting w/ my advisor|advisor meeting
advisor 1:1|prospectus meeting|dissertation committee mtg|research group meeting|lab meeting (grad)
meeting w/ Prof. {en_surname}|Prof. {en_surname} - thesis feedback|take {en_course} class|{en_course} class (student)
attend {en_course} lecture|my {en_course} tutor|tutoring for {en_course} (I'm the student)|{en_course} w/ my tutor
"""),
    ("LEARNING", "ko"): _t("""
기말 레포트 제출|중간 레포트 제출|레포트 마감|지도교수님 면담|{ko_surname} 교수님 면담|교수님 상담|교수님 미팅 (논문)|교수님 오피스아워|논문 지도|졸업 논문 면담
지도교수 미팅|랩미팅|연구실 세미나|{ko_subject} 수업 듣기|{ko_subject} 수업 (수강)|{ko_subject} 학원|{ko_subject} 과외 받기
"""),
    ("LEARNING", "mixed"): _t("""
advisor 면담|교수님 meeting|lab meeting 랩미팅|{ko_subject} class 수강
"""),
    ("HEALTH", "en"): _t("""
pickup {ball}|pick-up {ball}|pickup {ball} at the Y|{ball} pickup game|pickup game|open gym {ball}
PTO - {en_doc} appt|day off (doctor)|half day - {en_doc}|out for {en_proc}|leave early for {en_doc}|PTO for surgery
contact lens exam|contact lens fitting|new glasses prescription|derm appt|derm - {en_proc}
"""),
    ("HEALTH", "ko"): _t("""
연차 ({ko_doc})|연차 - 병원 진료|반차 - 병원|반차 ({ko_doc})|오후 반차 {ko_doc}|병원 때문에 반차|반차 - 건강검진
휴가 (수술)|오전 반차 (진료)|연차 - {ko_hospital} 진료
"""),
    ("HEALTH", "mixed"): _t("""
PTO {ko_doc}|반차 dentist|pickup {ball} 농구
"""),
    ("PERSONAL", "en"): _t("""
take {en_fam} to the {en_doc}|take {en_fam} to {en_doc} appt|drive {en_fam} to the {en_doc}
bring {en_fam} to {en_clinic}
{en_fam}'s {en_doc} appt (I'm driving)|{store_short}|{store_short} run|{store_short} haul|{store_short} + gas
PTO - moving day|half day - DMV|day off for the movers|wedding gift for {en_name}|{en_name}'s registry gift
buy a baby shower gift|order flowers for {en_fam}|buy running shoes|new running shoes for the half|buy a yoga mat
new swim goggles|tennis racket restring|buy hiking boots|order contact lenses|reorder contact lenses|send $ to {en_fam}
send $$ to {en_name}|Venmo {en_fam} back|transfer $ to {en_fam}
"""),
    ("PERSONAL", "ko"): _t("""
{ko_fam} {ko_doc} 모시고 가기|{ko_fam} 모시고 {ko_hospital}|{ko_fam} 병원 동행|{ko_fam} 진료 동행 ({ko_doc})
연차 (이사)|반차 - 은행 업무|반차 (전입신고)|연차 - 이삿날|실비 청구|실비 보험금 청구|병원비 실비 청구|{ko_name} 결혼 선물 사기|집 정리|방 정리|짐 정리
러닝화 사기|요가 매트 주문|렌즈 주문|{ko_fam}한테 송금|{ko_fam} 용돈 보내기
"""),
    ("PERSONAL", "mixed"): _t("""
{ko_fam} 병원 drive|{store_short} 장보기
"""),
    ("SOCIAL", "en"): _t("""
hospital visit - {en_rel}|visit {en_rel} in the hospital|see {en_name} at {en_clinic}|hospital visit: {en_name}
visit {en_rel} at the nursing home|PTO - {en_name}'s wedding|day off for {en_fam}'s birthday
flight to {trip} - {en_fam}'s 60th
trip to {trip} w/ the girls|the kids' sports day|school play (the kids)|community choir|choir|gospel choir rehearsal
church choir rehearsal|worship team practice
church band practice
"""),
    ("SOCIAL", "ko"): _t("""
{ko_fam} 병문안 ({ko_hospital})|{ko_name} 병문안 - {ko_hospital}|{ko_hospital} 병문안|병원 면회 ({ko_fam})|면회 가기
요양병원 면회|요양원 {ko_fam} 면회|북클럽 모임|독서 동호회|딸 운동회|아들 학교 운동회|애들 운동회|아이 학예회|연차 ({ko_name} 결혼식)|반차 - 가족 모임|합창단 연습|합창단|성가대|찬양팀 연습
찬양 연습|{ko_trip} 가족 방문 (비행기)
"""),
    ("SOCIAL", "mixed"): _t("""
{ko_fam} 병문안 visit|choir 연습|찬양팀 practice
"""),
    ("OTHER", "en"): _t("""
{en_clock}|{en_clock}?|{en_clock} - ?|no meetings please|don't book meetings|meeting-free block|Labour Day
Canada Day|Victoria Day|Remembrance Day|Election Day|Labor Day weekend|{holiday} - no work
"""),
    ("OTHER", "ko"): _t("""
{ko_clock}|{ko_clock}?|{ko_clock} 일정|회의 잡지 마세요|미팅 잡지 마세요|회의 금지|미팅 불가|회의 불가 시간|{ko_holiday} (휴무)
"""),
}
for _key, _extra in HARD.items():
    TEMPLATES[_key] = TEMPLATES[_key] + _extra

# Wordings that could belong to two categories, with the ONE label we always give them (the more plausible).
# Rules: eating/drinking together -> SOCIAL; physical activity -> HEALTH; with a client/boss/recruiter -> WORK;
# family chores and pets -> PERSONAL; a class that teaches a skill -> LEARNING.
AMBIGUOUS: dict[tuple[str, str], tuple[str, ...]] = {
    ("SOCIAL", "en"): _t("lunch w/ {en_name}|coffee w/ {en_name}|book club|walk with {en_name}|brunch with dad|"
                         "help {en_name} move|meet the in-laws"),
    ("WORK", "en"): _t("lunch with {en_name} ({en_company})|coffee chat - recruiter|golf with client|"
                       "networking event|conference day 1|hackathon|team lunch|team dinner|drinks w/ the team|"
                       "client lunch|vendor coffee"),
    ("HEALTH", "en"): _t("team yoga|office 5k fun run|massage|meditation|sauna"),
    ("PERSONAL", "en"): _t("vet for {pet}|kids' dentist drop-off|renew gym membership|return library books"),
    ("LEARNING", "en"): _t("cooking class w/ {en_name}|lunch & learn|CPR course|certification exam"),
    ("SOCIAL", "ko"): _t("점심 약속 ({ko_name})|독서 모임|동기 모임|세미나 뒤풀이|엄마랑 통화|이모한테 전화|"
                         "추석 큰집 방문"),
    ("WORK", "ko"): _t("{ko_boss:gwa} 점심|워크숍|거래처 골프|커피챗 ({ko_name})|팀 워크숍|회식|팀 회식|"
                        "체육대회|회사 송년회|야근"),
    ("HEALTH", "ko"): _t("사내 요가|마사지|사우나|회사 헬스장"),
    ("PERSONAL", "ko"): _t("반려견 병원|부모님 병원 모시고 가기|헬스장 재등록|도서관 책 반납"),
    ("LEARNING", "ko"): _t("요리 클래스|점심 세미나|사내 스터디"),
    ("SOCIAL", "mixed"): _t("lunch w/ {ko_name}|book club 모임|family call 엄마"),
    ("WORK", "mixed"): _t("coffee chat {ko_boss}|client 골프|팀 lunch|팀 dinner 회식"),
    ("HEALTH", "mixed"): _t("team 요가|회사 gym"),
}
AMBIGUOUS_RATE = 0.05  # of the (category, lang) pairs that have any: ~4% of all events

# ------------------------------------------------------------------------------ descriptions, locations, people
DESC_EN = {
    "WORK": _t("""Agenda: {en_topic}, next steps|Please review the doc before the meeting|Zoom: https://zoom.us/j/{num}
Google Meet link in invite|Discuss {en_topic} for {project}|Bring laptop|Weekly sync on {project} progress
Prep: slides + numbers for {q}|Dial-in: +1 415 555 {num4}|Senior Engineer loop, scorecard in Greenhouse
Quarterly numbers with finance|Follow-up from last week's {en_topic} discussion|notes: blockers, owners, dates
Contract draft attached|Demo the new {project} flow|Teams meeting|room booked by {en_name}|1 pager in Drive"""),
    "PERSONAL": _t("""milk, eggs, bread, coffee|list on phone|keep the receipt|confirmation #{num}|bring ID
{en_bill} bill ~${n2}0|reference number {num}|drop off before 6|they said 10-12 window|take the car
remember the keys|snacks + water for the kids|Amazon return QR in email|parking in the back|ask for {en_name}"""),
    "HEALTH": _t("""fasting from midnight|bring insurance card|arrive 15 min early|bring referral
squats, deadlifts, lunges|5x5 + 20 min cardio|bring mat + water|copay $30|follow-up on knee|refill: {en_med}
cleaning + x-rays|session {n}/10|zone 2, easy pace|stretch after|Dr. {en_surname}, 2nd floor"""),
    "SOCIAL": _t("""bring a bottle of wine|gift: {en_item}|dress code: casual|RSVP'd yes|reservation under {en_name}
split the bill|bring dessert|meet at {en_place}|table for 6|his 30th|tickets in email|surprise, don't tell {en_name}
{en_name} is hosting|after-party at {en_name}'s|Venmo {en_name} for tickets"""),
    "LEARNING": _t("""chapters {n}-{n2}|submit on Canvas|bring notebook|Zoom link on course page|practice problems 1-20
module {n}: {en_learn}|vocab list #{n}|room 204|read before class|quiz next week|office hours 3-4
group: {en_name}, {en_name}|recording will be shared|slides on the course site|bring calculator"""),
    "OTHER": (),
}
DESC_KO = {
    "WORK": _t("""안건: {ko_topic}|회의 자료 사전 검토 부탁드립니다|{ko_project} 진행 상황 공유|줌 링크: https://zoom.us/j/{num}
노트북 지참|{ko_boss} 참석|{ko_company} 담당자 미팅|결재 서류 준비|보고서 초안 검토|지난 회의 후속 논의
회의록 작성: {ko_name}|발표 자료 10장 내외|견적서 첨부|구글 밋 링크 참조|KTX 08:30 서울역 출발|{ko_topic} 관련 논의"""),
    "PERSONAL": _t("""우유, 계란, 두부, 대파|신분증 챙기기|영수증 챙기기|예약번호 {num}|오전 10시~12시 방문 예정
관리비 자동이체 확인|택배 경비실 보관|쿠팡 반품 QR 코드|이삿짐센터 연락처 확인|주차 가능|통장 사본 챙기기
엄마 부탁|월세 {n2}0만원|기사님 방문 전 연락 옴|휴지, 세제 사기"""),
    "HEALTH": _t("""전날 밤 12시부터 금식|보험증 챙기기|15분 전 도착|스케일링 + 충치 확인|하체: 스쿼트, 런지
요가 매트 챙기기|물리치료 {n}회차|처방전 챙기기|재진|검사 결과 상담|운동복 챙기기|유산소 30분
접수 9시부터|실비 청구 서류|{ko_hospital} 2층"""),
    "SOCIAL": _t("""{ko_name} 이름으로 예약|회비 3만원|선물 준비|축의금|드레스코드: 캐주얼|6명 예약|2차는 노래방
케이크 픽업|{ko_area}에서 만나기|티켓 카톡으로 받음|깜짝 파티! 비밀|n빵|술은 적당히|{ko_name:ga} 쏨"""),
    "LEARNING": _t("""{n}강~{n2}강 듣기|과제 제출: 이클래스|교재 {n}장|단어 50개 암기|스터디원: {ko_name}, {ko_name}
모의고사 1회분|강의실 {n}02호|녹화본 공유 예정|줌 링크 공지 참고|오답 정리|노트 정리|발표 순서 확인
교재 챙기기|출석 체크 있음"""),
    "OTHER": (),
}
DESC_GENERIC_EN = _t("""see notes|zoom link inside|details TBD|see email|link in invite|notes|tbd|added from phone
via {en_name}|recurring|ask {en_name}|more info later|check Slack|moved from last week|https://bit.ly/{code}|-""")
DESC_GENERIC_KO = _t("""자세한 내용은 노트 참고|카톡 참고|메일 참고|추후 공지|미정|링크 첨부|지난주에서 변경
{ko_name} 통해 전달받음|강남역 2번 출구|확인 필요|메모 참고|시간 변경 가능|https://bit.ly/{code}""")

LOC_EN = {
    "WORK": _t("""Conference Room {letter}|Room {n}0{n}|Zoom|Google Meet|Microsoft Teams|HQ 5th floor
{en_company} office|{en_city} office|Boardroom|Huddle room 2|WeWork {street}|client site|Main office"""),
    "PERSONAL": _t("""Home|home|Costco|Target|Whole Foods|Bank of America|post office|DMV|Jiffy Lube|Great Clips
IKEA|{street}|school|Home Depot"""),
    "HEALTH": _t("""Gold's Gym|Equinox|Planet Fitness|YMCA|CorePower Yoga|City Dental|Dr. {en_surname}'s office
St. Mary's Hospital|Kaiser|physio clinic|the track|Central Park|pool|{street}"""),
    "SOCIAL": _t("""{en_name}'s place|The Local|Joe's Bar & Grill|O'Malley's|rooftop bar|Blue Bottle|Chez Nous
downtown|the park|Madison Square Garden|karaoke place|{en_food} place on Main St|{street}"""),
    "LEARNING": _t("""Library|Room 204|Hall B|online|Zoom|campus|Starbucks|language school|{en_name}'s place
community center|Lecture hall 3|Science building"""),
    "OTHER": (),
}
LOC_KO = {
    "WORK": _t("""회의실 {n}|대회의실|소회의실 B|본사 {n}층|{ko_company} 본사|판교 사옥|줌|구글 밋|화상회의
{ko_city} 지사|공유 오피스|위워크 {ko_area}"""),
    "PERSONAL": _t("""집|이마트 {ko_area}점|코스트코 양재|홈플러스|{ko_bank} {ko_area}지점|우체국|주민센터
블루핸즈 {ko_area}|미용실|다이소|관리사무소|아파트 경비실"""),
    "HEALTH": _t("""헬스장|{ko_area} 헬스장|요가원|필라테스 스튜디오|{ko_hospital}|{ko_area} {ko_doc}|한강공원
{ko_area} 스포츠센터|구민체육센터|{ko_area}역 정형외과"""),
    "SOCIAL": _t("""강남역 2번 출구|{ko_area}|{ko_area}역|{ko_area} {ko_food}집|{ko_name}네 집|홍대 노래방
{ko_area} 카페|{ko_area} 웨딩홀|잠실야구장|이태원 펍|을지로 노가리 골목|성수동 카페"""),
    "LEARNING": _t("""도서관|중앙도서관|스터디카페|{ko_area} 스터디카페|강의실 {n}0{n}호|학원|{ko_area} 어학원|온라인|줌
공학관 {n}층|카페"""),
    "OTHER": (),
}
LOC_GENERIC_EN = _t("TBD|TBA|online|Starbucks|home|{street}|see invite|office")
LOC_GENERIC_KO = _t("강남역 2번 출구|미정|온라인|스타벅스|{ko_area}역 {n}번 출구|집 근처|회사")

DESC_RATE = {"WORK": 0.50, "PERSONAL": 0.35, "HEALTH": 0.40, "SOCIAL": 0.40, "LEARNING": 0.42, "OTHER": 0.20}
LOC_RATE = {"WORK": 0.40, "PERSONAL": 0.25, "HEALTH": 0.45, "SOCIAL": 0.50, "LEARNING": 0.35, "OTHER": 0.10}
ATTENDEE_RATE = {"WORK": 0.60, "PERSONAL": 0.08, "HEALTH": 0.05, "SOCIAL": 0.45, "LEARNING": 0.15, "OTHER": 0.10}
WORK_DOMAINS = _t("acme.com|globex.io|initech.co|hooli.com|company.co.kr|geulpi.io|northwind.com|corp.kr")
MAIL_DOMAINS = _t("gmail.com|naver.com|kakao.com|daum.net|outlook.com|icloud.com|hanmail.net")

# ------------------------------------------------------------------------------------------------ priority markers
HIGH_EN = _t("URGENT: {t}|{t} (urgent)|{t} - ASAP|{t} asap|{t}!!!|IMPORTANT {t}|{t} - deadline today|{t} due EOD|"
             "critical: {t}|[Important] {t}|{t} - important|!!! {t}|{t} (due today)|{t} - do NOT miss|"
             "DON'T MISS: {t}|{t} (do not miss)")
HIGH_KO = _t("[긴급] {t}|{t} (중요)|{t} 마감|{t} 필수|급함) {t}|{t} 반드시!!|중요!! {t}|{t} - 오늘 마감|긴급 {t}|"
             "{t} 필수 참석|{t} 급함|★중요★ {t}|{t} 절대 놓치지 말 것")
HIGH_DESC_EN = _t("This is urgent, please prioritize.|Deadline is today.|important!!|needs to happen asap|critical")
HIGH_DESC_KO = _t("중요한 일정입니다|반드시 참석|필수 참석|마감 전까지 제출|긴급 건")
LOW_EN = _t("{t} (optional)|maybe {t}|(tentative) {t}|{t} if time|{t}? maybe|optional: {t}|{t} - tentative")
LOW_KO = _t("{t} (선택)|여유되면 {t}|가능하면 {t}|{t} - 가능하면|(선택) {t}|{t} 여유되면")
LOW_DESC_EN = _t("optional, only if you have time|tentative|maybe, will confirm")
LOW_DESC_KO = _t("여유되면 참석|선택 사항|가능하면 가기")
HIGH_RATE, LOW_RATE = 0.08, 0.08
_HIGH_RE = re.compile(r"\b(urgent|asap|deadline|critical|important|due)\b|\bdo not miss\b|\bdon'?t miss\b|!!|긴급|급함|"
                      r"마감|중요|필수|반드시|오늘까지|놓치지 말",
                      re.I)
_LOW_RE = re.compile(r"\b(optional|maybe|tentative|if time)\b|선택|여유되면|가능하면|시간되면", re.I)

# Priority of an event with no urgency or tentative word (LABELS.md): what the event is decides. Each category has a
# default and patterns (searched in the template and its filled title, before any noise) that move it up or down.
_P = re.I
PRIORITY_RULES: dict[str, tuple[str, tuple[tuple[str, re.Pattern], ...]]] = {
    "WORK": ("MEDIUM", (
        ("HIGH", re.compile(r"client|customer|en_company\}|ko_company\}|거래처|고객|클라이언트|investor|pitch|IR |"
                            r"incident|post-?mortem|outage|sev1|장애|escalation|클레임|board|이사회|주주총회|RFP|"
                            r"proposal|제안|contract sign|계약 체결|계약 미팅|launch|런칭|오픈|release|deploy .* to prod|"
                            r"presentation to|site visit|onsite|외근|flight|\bfly to\b|비행기|항공편", _P)),
        ("LOW", re.compile(r"jira|timesheet|email|e-mail|메일|slack|회의록|영수증|법인카드|WFH|재택|업무 정리|tickets|"
                           r"focus|deep work|heads-down|heads down|maker time|writing block|집중|포커스|딥워크|write docs|"
                           r"read|정리$", _P)),
    )),
    "PERSONAL": ("LOW", (
        ("MEDIUM", re.compile(r"appt|appointment|DMV|haircut|hair|nails|네일|미용실|염색|머리|plumber|electrician|"
                              r"installation|설치|기사|점검|수리 기사|pick ?up (the )?kids|kids pickup|school|daycare|"
                              r"en_kid\}|ko_kid\}|하원|등원|픽업|parent-teacher|PTA|상담|vet|동물병원|예방접종|rent|월세|"
                              r"관리비|납부|bill|tax|세금|소득세|insurance|보험|renew|갱신|passport|여권|lease|계약|"
                              r"이사$|이사 준비|moving day|movers|delivery|배송|inspection|검사|jury|김장|landlord|"
                              r"집주인|registration|license|면허|등록|en_doc\}|ko_doc\}|ko_hospital\}|en_clinic\}|병원|모시고|"
                              r"동행", _P)),
    )),
    "HEALTH": ("LOW", (
        ("HIGH", re.compile(r"MRI|CT scan|surgery|수술|biopsy|조직검사|내시경|colonoscopy|endoscopy|urgent care|응급|"
                            r"재검|results|결과|specialist|전문의|대학병원|외래|cardiolog|OB-?GYN|allergist|"
                            r"mammogram|pre-op|post-op|root canal|발치|mole", _P)),
        ("MEDIUM", re.compile(r"doctor|dr\.|\bdr\b|\bdoc\b|appt|appointment|dentist|dental|teeth|orthodont|치과|병원|"
                              r"의원|진료|검진|검사|checkup|check-up|physical|therapy|therap|counsel|상담|physio|"
                              r"물리치료|도수|chiro|한의원|침 |acupunct|flu shot|vaccine|booster|접종|주사|eye exam|"
                              r"안과|피부과|prescription|약 타|약국|PT 세션|PT 받기|PT \{n\}|personal trainer|"
                              r"trainer|blood|피검사|lab|screening|X-ray|hearing|nutritionist|en_doc\}|ko_doc\}|"
                              r"hospital|ko_hospital\}|massage therapy|psychiatr|정신과|Dr\. \{", _P)),
    )),
    "SOCIAL": ("MEDIUM", (
        ("HIGH", re.compile(r"funeral|memorial|wake for|장례|조문|발인", _P)),
        ("LOW", re.compile(r"movie night|hang out|번개|video call|FaceTime|영상통화|game night at|bar crawl|"
                           r"pub crawl", _P)),
    )),
    "LEARNING": ("LOW", (
        ("HIGH", re.compile(r"^(?!.*(prep|study|practice|review|revision|registration|공부|준비|접수|기출|모의|"
                            r"mock|연습|정리|\bfor\b)).*(exam|test day|driving test|\btest\b|시험|고사|midterm|"
                            r"\bfinal\b|en_exam\}|ko_exam\}|응시|실기|필기|도로주행|quiz|due|제출|마감)", _P)),
        ("MEDIUM", re.compile(r"^(?!.*(online|온라인|인강|듣기|recording|webinar|웨비나|self-paced|MOOC|"
                              r"Coursera|Udemy|video|사이버|독학)).*(class|lesson|lecture|수업|강의|레슨|과외|"
                              r"학원|tutor\b|tutoring|seminar|세미나|workshop|워크숍|office hours|study group|스터디|bootcamp|"
                              r"부트캠프|교수님|course|교육|클래스|lab\b|연구실|강연|특강|TA session|교실|committee|advisor|"
                              r"prospectus|proposal|lab meeting|research group|랩미팅|논문 지도|지도교수)", _P)),
    )),
    "OTHER": ("LOW", (
        ("HIGH", re.compile(r"flight|fly to|red-eye|비행기|귀국|layover", _P)),
        ("MEDIUM", re.compile(r"train|amtrak|KTX|SRT|기차|고속버스|ferry|airport|공항", _P)),
    )),
}


def _event_priority(cat: str, template: str, base: str) -> str:
    default, rules = PRIORITY_RULES[cat]
    for priority, pattern in rules:
        if pattern.search(template) or pattern.search(base):
            return priority
    return default

# ----------------------------------------------------------------------------------------------- surface noise
EMOJI = {
    "WORK": _t("💼|📊|📈|💻|📞|🗂️|📝|🤝|✈️|🧑‍💻|📅|🚀"),
    "PERSONAL": _t("🛒|🏠|🚗|💇|🧺|🐶|📦|🏦|💳|🧹|🔧|🛍️|👶"),
    "HEALTH": _t("🏋️|🧘|🏃|🦷|💊|🩺|🏊|🚴|💉|🥗|🤸|💪"),
    "SOCIAL": _t("🍻|🎂|🎉|🍕|🍷|🥂|🎁|💃|🍜|🍖|☕|🎤|💒"),
    "LEARNING": _t("📚|🎓|📖|✏️|🧠|💡|🇪🇸|🎹|🎸|🔤|🖥️"),
    "OTHER": _t("❓|⏰|📌|⭐|🔔|✅|🚫|💤|🔒|👀"),
}
EMOJI_GENERIC = _t("✨|🙂|👍|🔥|❤️|😅|🙏|⚡|😊|🤔")
PREFIX_COMMON_EN = _t("(online)|*|>>|Updated:|Invitation:|[copy]|[Recurring]|Fwd:")
PREFIX_WORK_EN = _t("[Team]|FW:|RE:|[{project}]|[{en_team}]|[Ext]|[Internal]")
PREFIX_COMMON_KO = _t("(온라인)|★|※|[반복]|[변경]|[개인]|(재)|>>")
PREFIX_WORK_KO = _t("[팀]|[공유]|[외부]|[{ko_team}]|[{ko_project}]|FW:")
EXTRA_EN = _t("(moved from {weekday})|- confirm with {en_name}|(recurring)|pt. 2|#{n}|(rescheduled)|"
              "w/ {en_name} and {en_name}|(again)|round 2|part {n}|- {weekday}|+ follow-up|(30 min)|{month} edition")
EXTRA_KO = _t("({ko_weekday}에서 변경)|- {ko_name} 확인|(반복)|2차|{n}회차|(일정 변경)|다시|{ko_name}, {ko_name} 같이|"
              "{ko_area}에서|(30분)|{n}번째|- {ko_weekday}")
PUNCT_EN = _t("!|.|?|..|:)|!!")
PUNCT_KO = _t("~|!|ㅋㅋ|ㅎㅎ|..|^^|ㅠㅠ|~~")

# English abbreviations (pattern -> spellings); applied to a share of titles, each rule with some probability.
ABBREV_EN = tuple((re.compile(p, re.I), _t(r)) for p, r in (
    (r"\bmeeting\b", "mtg|mtng|meet"), (r"\bappointment\b", "appt|apt|appt."), (r"\bwith\b", "w/|w"),
    (r"\babout\b", "re:|abt"), (r"\bdoctor('s)?\b", "dr.|doc|dr"), (r"\b1:1\b", "1on1|1-1|1:1"),
    (r"\bone-on-one\b", "1on1|1:1"), (r"\btomorrow\b", "tmrw|tmr"), (r"\bbirthday\b", "bday|b-day"),
    (r"\bpresentation\b", "prez|pres"), (r"\bconference\b", "conf"), (r"\binterview\b", "intvw|interv"),
    (r"\bproject\b", "proj"), (r"\bhomework\b", "hw|HW"), (r"\bassignment\b", "assgn|asgmt"),
    (r"\bdepartment\b", "dept"), (r"\band\b", "&|+|n"), (r"\bplease\b", "pls|plz"), (r"\bbefore\b", "b4"),
    (r"\bpeople\b", "ppl"), (r"\bweekly\b", "wkly"), (r"\bquarterly\b", "qtrly"), (r"\bdocuments?\b", "docs"),
    (r"\bminutes\b", "mins"), (r"\bweek\b", "wk"), (r"\bprofessor\b", "prof"), (r"\bapartment\b", "apt"),
    (r"\bphysical therapy\b", "PT"), (r"\bsynchroni[sz]ation\b", "sync"), (r"\bgroceries\b", "grocs"),
    (r"\breview\b", "rvw|review"), (r"\bfriends\b", "frnds|friends"), (r"\bpractice\b", "prac"),
    (r"\bchapter\b", "ch.|chap"), (r"\bfollow[- ]up\b", "f/u|followup"), (r"\bend of day\b", "eod|EOD"),
    (r"\bdermatolog(ist|y)\b", "derm"),
))
ABBREV_KO = tuple((k, _t(v)) for k, v in (
    ("생일 파티", "생파"), ("생일파티", "생파"), ("스타벅스", "스벅"), ("치킨 맥주", "치맥"), ("스터디 카페", "스카"),
    ("스터디카페", "스카"), ("아르바이트", "알바"), ("금요일", "금욜"), ("토요일", "토욜"), ("수요일", "수욜"),
    ("월요일", "월욜"), ("선생님", "쌤"), ("건강검진", "검진"), ("헬스장", "헬스"), ("인터넷 강의", "인강"),
    ("회의", "회의|미팅"), ("면담", "면담|미팅"), ("수업", "수업|클래스"), ("팀장님", "팀장"), ("교수님", "교수"),
))
ABBREV_RATE, ABBREV_RULE_P = 0.35, 0.7
KO_MISSPELL = (("며칠", "몇일"), ("금세", "금새"), ("어떻게", "어떡게"), ("설거지", "설겆이"), ("오랜만", "오랫만"),
               ("역할", "역활"), ("결제", "결재"), ("결재", "결제"), ("안 돼", "안되"), ("됐", "됬"), ("웬", "왠"),
               ("예약", "예악"), ("회의", "회이"), ("스케줄", "스케쥴"), ("워크숍", "워크샵"), ("미팅", "미딩"),
               ("스케일링", "스캘링"), ("필라테스", "필라테쓰"), ("스터디", "스터다"), ("세미나", "새미나"),
               ("데이트", "대이트"), ("레슨", "래슨"), ("택배", "택베"), ("병원", "병언"), ("회식", "회싯"))
_QWERTY = dict(zip("qwertyuiopasdfghjklzxcvbnm", _t(
    "wa|qes|wrd|etf|ryg|tuh|yij|uok|ipl|ol|qsz|awdx|sefc|drgv|fthb|gyjn|hukm|jil|kop|asx|zdc|xfv|cgb|vhn|bjm|nk")))
# Syllable vowel index swaps commonly confused in Korean: ㅐ<->ㅔ, ㅒ<->ㅖ, ㅙ/ㅚ/ㅞ.
_KO_VOWEL_SWAP = {1: 5, 5: 1, 3: 7, 7: 3, 10: 11, 11: 10, 15: 11}
TYPO_RATE, EMOJI_RATE, PREFIX_RATE, TIME_RATE, EXTRA_RATE, PUNCT_RATE = 0.10, 0.15, 0.07, 0.05, 0.07, 0.07
# Terse titles: people often type one word, a name or a time as the title and put what the event is in the notes
# ("appt" | "cleaning + x-rays", "3pm" | "renewal call with Acme"). The notes decide the class then, so a share of
# non-OTHER events moves its title into the description behind one of these.
TERSE_EN = _t("appt|call|mtg|meeting|class|event|thing|prep|trip|session|pickup|note|📍|{en_name}|{en_surname}|"
              "{en_clock}")
TERSE_KO = _t("약속|일정|예약|수업|미팅|모임|그거|ㅇㅇ|메모|📍|{ko_name}|{ko_clock}")
TERSE_RATE = 0.03

# -------------------------------------------------------------------------------------------------------- times
# Start-hour windows (lo, hi, weight), weekend probability, duration choices (minutes, weight), all-day rate.
HOURS = {
    "WORK": ((8, 10, 30), (10, 12, 25), (12, 13, 5), (13, 17, 28), (17, 19, 8), (19, 22, 4)),
    "PERSONAL": ((7, 10, 20), (10, 18, 55), (18, 22, 25)),
    "HEALTH": ((6, 9, 33), (9, 18, 32), (18, 21, 35)),
    "SOCIAL": ((11, 14, 20), (14, 18, 14), (18, 21, 54), (21, 23, 12)),
    "LEARNING": ((7, 9, 10), (9, 18, 37), (18, 22, 53)),
    "OTHER": ((0, 24, 20), (8, 20, 80)),
}
WEEKEND = {"WORK": 0.05, "PERSONAL": 0.35, "HEALTH": 0.30, "SOCIAL": 0.50, "LEARNING": 0.35, "OTHER": 0.28}
DURATIONS = {
    "WORK": ((15, 10), (25, 5), (30, 30), (45, 10), (60, 30), (90, 10), (120, 5)),
    "PERSONAL": ((15, 15), (30, 30), (45, 10), (60, 25), (90, 10), (120, 10)),
    "HEALTH": ((30, 20), (45, 20), (60, 40), (90, 15), (120, 5)),
    "SOCIAL": ((60, 15), (90, 20), (120, 30), (180, 20), (240, 15)),
    "LEARNING": ((45, 10), (60, 30), (90, 25), (120, 20), (180, 15)),
    "OTHER": ((0, 10), (15, 15), (30, 30), (60, 30), (120, 10), (240, 5)),
}
ALL_DAY = {"WORK": 0.03, "PERSONAL": 0.03, "HEALTH": 0.01, "SOCIAL": 0.02, "LEARNING": 0.02, "OTHER": 0.05}

_SLOT_RE = re.compile(r"\{(\w+)(?::(\w+))?\}")
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
_HANGUL_RUN = re.compile(r"[가-힣]+")
_HOUR_CUM = {c: tuple(accumulate(w for _, _, w in HOURS[c])) for c in CATEGORIES}
_DUR_CUM = {c: tuple(accumulate(w for _, w in DURATIONS[c])) for c in CATEGORIES}
_CAT_CUM = tuple(accumulate(CATEGORY_WEIGHTS))
_LANG_CUM = tuple(accumulate(LANG_WEIGHTS))


# ------------------------------------------------------------------------------------------------------ helpers
def _particle(word: str, kind: str) -> str:
    """Attach a Korean particle that agrees with the last syllable (받침 or not)."""
    code = ord(word[-1]) - 0xAC00
    final = code % 28 if 0 <= code < 11172 else 0
    if kind == "ro":
        return word + ("으로" if final not in (0, 8) else "로")
    with_final, without = {"rang": ("이랑", "랑"), "gwa": ("과", "와"), "eul": ("을", "를"), "ga": ("이", "가"),
                           "eun": ("은", "는"), "i": ("이", "")}[kind]
    return word + (with_final if final else without)


def _fill(rng: random.Random, template: str) -> str:
    def slot(m: re.Match) -> str:
        name, mod = m.group(1), m.group(2)
        value = _DYNAMIC[name](rng) if name in _DYNAMIC else rng.choice(_POOLS[name])
        return _particle(value, mod) if mod else value
    return _SLOT_RE.sub(slot, template) if "{" in template else template


def _side(rng: random.Random, lang: str) -> str:
    """Language of free text around a title: mixed events write either language."""
    return lang if lang != "mixed" else ("ko" if rng.random() < 0.6 else "en")


def _wrap(rng: random.Random, forms: tuple[str, ...], title: str) -> str:
    return rng.choice(forms).replace("{t}", title)


def _description(rng: random.Random, cat: str, lang: str) -> str:
    side = _side(rng, lang)
    specific = (DESC_KO if side == "ko" else DESC_EN)[cat]
    pool = specific if specific and rng.random() < 0.75 else (DESC_GENERIC_KO if side == "ko" else DESC_GENERIC_EN)
    return _fill(rng, rng.choice(pool))


def _location(rng: random.Random, cat: str, lang: str) -> str:
    side = _side(rng, lang)
    specific = (LOC_KO if side == "ko" else LOC_EN)[cat]
    pool = specific if specific and rng.random() < 0.8 else (LOC_GENERIC_KO if side == "ko" else LOC_GENERIC_EN)
    return _fill(rng, rng.choice(pool))


def _attendees(rng: random.Random, cat: str, lang: str) -> list[str]:
    out: list[str] = []
    domains = WORK_DOMAINS if cat in ("WORK", "LEARNING") else MAIL_DOMAINS
    as_email = rng.random() < 0.65
    for _ in range(rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5, 8))):
        if _side(rng, lang) == "en":
            first, last = rng.choice(EN_NAME), rng.choice(EN_SURNAME)
            person = f"{first.lower()}.{last.lower()}@{rng.choice(domains)}" if as_email else f"{first} {last}"
        else:
            given, roman = rng.choice(KO_NAME)
            person = (f"{roman}{rng.choice(('', '', str(rng.randint(1, 99))))}@{rng.choice(domains)}" if as_email
                      else f"{rng.choice(KO_SURNAME)}{given}")
        if person not in out:
            out.append(person)
    return out


def _times(rng: random.Random, cat: str, start_date: date) -> tuple[datetime, datetime]:
    weekend = rng.random() < WEEKEND[cat]
    dow = rng.choice((5, 6)) if weekend else rng.randrange(5)
    day = start_date + timedelta(days=rng.randrange(52) * 7 + (dow - start_date.weekday()) % 7)
    if rng.random() < ALL_DAY[cat]:
        start = datetime.combine(day, time())
        return start, start + timedelta(days=rng.choice((1, 1, 1, 1, 2, 3)))
    lo, hi, _ = rng.choices(HOURS[cat], cum_weights=_HOUR_CUM[cat])[0]
    r = rng.random()
    grid = 30 if r < 0.6 else 15 if r < 0.85 else 5 if r < 0.97 else 1
    minute = rng.randrange(lo * 60, hi * 60)
    minute -= minute % grid
    duration = rng.choices(DURATIONS[cat], cum_weights=_DUR_CUM[cat])[0][0]
    if rng.random() < 0.1:
        duration = max(5, duration + rng.choice((-15, -10, -5, 5, 10, 15, 30)))
    start = datetime.combine(day, time()) + timedelta(minutes=minute)
    return start, start + timedelta(minutes=duration)


def _clock(rng: random.Random, start: datetime, lang: str) -> str:
    h, m = start.hour, start.minute
    h12 = h % 12 or 12
    if _side(rng, lang) == "ko":
        half = "" if m == 0 else " 반" if m == 30 else f" {m}분"
        return rng.choice((f"{'오전' if h < 12 else '오후'} {h12}시{half}", f"{h12}시{half}", f"{h}:{m:02d}"))
    ampm = "am" if h < 12 else "pm"
    return rng.choice((f"{h12}{ampm}" if m == 0 else f"{h12}:{m:02d}{ampm}", f"{h}:{m:02d}", f"@{h12}"))


def _abbreviate(rng: random.Random, title: str) -> str:
    for pattern, spellings in ABBREV_EN:
        if rng.random() < ABBREV_RULE_P and pattern.search(title):
            title = pattern.sub(rng.choice(spellings), title, count=1)
    for word, spellings in ABBREV_KO:
        if word in title and rng.random() < ABBREV_RULE_P:
            title = title.replace(word, rng.choice(spellings), 1)
    return title


def _emoji(rng: random.Random, title: str, cat: str, base: str) -> str:
    r = rng.random()
    if r < 0.03:
        return rng.choice(EMOJI[cat])  # the emoji alone
    e = rng.choice(EMOJI[cat] if rng.random() < 0.85 else EMOJI_GENERIC)
    if r < 0.12:
        return f"{e} {max(base.split(), key=len)}"  # emoji plus its most telling word
    return f"{e} {title}" if r < 0.55 else f"{title} {e}"


def _typo_en(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1:]
    if op == 1:
        return word[:i] + word[i] + word[i:]
    if op == 2 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    near = _QWERTY.get(word[i].lower())
    return word[:i] + rng.choice(near) + word[i + 1:] if near else word[:i] + word[i + 1:]


def _typo_ko(rng: random.Random, title: str) -> str:
    hits = [(a, b) for a, b in KO_MISSPELL if a in title]
    if hits and rng.random() < 0.4:
        a, b = rng.choice(hits)
        return title.replace(a, b, 1)
    if " " in title and rng.random() < 0.3:  # 띄어쓰기: one or all spaces dropped
        i = rng.choice([i for i, c in enumerate(title) if c == " "])
        return title[:i] + title[i + 1:] if rng.random() < 0.6 else title.replace(" ", "")
    m = rng.choice(list(_HANGUL_RUN.finditer(title)))
    i, run = rng.randrange(m.start(), m.end()), m.end() - m.start()
    code = ord(title[i]) - 0xAC00
    vowel, final = (code // 28) % 21, code % 28
    ops = ["double", "stray"] + ["swap"] * (vowel in _KO_VOWEL_SWAP) + (["drop_final"] if final else ["add_final"])
    ops += ["space", "drop"] if run >= 3 else []
    op = rng.choice(ops)
    if op == "swap":  # ㅐ/ㅔ-style vowel confusion
        return title[:i] + chr(0xAC00 + (code // 588) * 588 + _KO_VOWEL_SWAP[vowel] * 28 + final) + title[i + 1:]
    if op in ("drop_final", "add_final"):  # 받침 missed, or an extra one from a finger slip
        new = code - final if final else code + rng.choice((1, 4, 8, 21))
        return title[:i] + chr(0xAC00 + new) + title[i + 1:]
    if op == "space":  # a space inside a word
        j = rng.randrange(m.start() + 1, m.end())
        return title[:j] + " " + title[j:]
    if op == "drop":
        return title[:i] + title[i + 1:]
    if op == "stray":  # a lone jamo typed after the word
        return title[:m.end()] + rng.choice("ㅇㅁㅋㄴㅎ") + title[m.end():]
    return title[:i + 1] + title[i] + title[i + 1:]  # syllable doubled


def _typo(rng: random.Random, title: str, lang: str) -> str:
    """One realistic slip: a letter in an English word, or spacing / a syllable / a misspelling in Korean."""
    latin = list(_LATIN_WORD.finditer(title))
    hangul = _HANGUL_RUN.search(title) is not None
    if hangul and (not latin or lang == "ko" or (lang == "mixed" and rng.random() < 0.5)):
        return _typo_ko(rng, title)
    if not latin:
        return title
    m = rng.choice(latin)
    return title[:m.start()] + _typo_en(rng, m.group()) + title[m.end():]


def _case(rng: random.Random, title: str) -> str:
    r = rng.random()
    if r < 0.04:
        return title.upper()
    if r < 0.14:
        return title.lower()
    if r < 0.50:
        return title[:1].upper() + title[1:]
    return title


def _priority(text: str, event_priority: str = "MEDIUM") -> str:
    """Urgency words always give HIGH; tentative words give LOW unless urgent; otherwise the event decides."""
    return "HIGH" if _HIGH_RE.search(text) else "LOW" if _LOW_RE.search(text) else event_priority


def _template(rng: random.Random, cat: str, lang: str) -> str:
    ambiguous = AMBIGUOUS.get((cat, lang))
    if ambiguous and rng.random() < AMBIGUOUS_RATE:
        return rng.choice(ambiguous)
    return rng.choice(TEMPLATES[(cat, lang)])


def _event(rng: random.Random, start_date: date) -> dict:
    cat = rng.choices(CATEGORIES, cum_weights=_CAT_CUM)[0]
    lang = rng.choices(LANGS, cum_weights=_LANG_CUM)[0]
    ko_side = lang == "ko" or (lang == "mixed" and rng.random() < 0.5)
    template = _template(rng, cat, lang)
    title = base = _fill(rng, template)
    description = _description(rng, cat, lang) if rng.random() < DESC_RATE[cat] else ""
    if cat != "OTHER" and rng.random() < TERSE_RATE:
        description = f"{base}, {description}" if description else base
        title = _fill(rng, rng.choice(TERSE_KO if ko_side else TERSE_EN))
    start, end = _times(rng, cat, start_date)
    if rng.random() < EXTRA_RATE:  # long titles: details typed into the title
        extra = _description(rng, cat, lang) if rng.random() < 0.5 else _fill(
            rng, rng.choice(EXTRA_KO if ko_side else EXTRA_EN))
        title = f"{title}{rng.choice((' - ', ': ', ' ', ' / '))}{extra}"
    r = rng.random()
    if r < HIGH_RATE:
        if rng.random() < 0.7:
            title = _wrap(rng, HIGH_KO if ko_side else HIGH_EN, title)
        else:
            note = rng.choice(HIGH_DESC_KO if ko_side else HIGH_DESC_EN)
            description = f"{note} {description}".strip()
    elif r < HIGH_RATE + LOW_RATE and not _HIGH_RE.search(f"{title} {description}"):
        if rng.random() < 0.8:
            title = _wrap(rng, LOW_KO if ko_side else LOW_EN, title)
        else:
            description = f"{rng.choice(LOW_DESC_KO if ko_side else LOW_DESC_EN)} {description}".strip()
    if rng.random() < PREFIX_RATE:
        work = cat == "WORK" and rng.random() < 0.7
        pool = (PREFIX_WORK_KO if work else PREFIX_COMMON_KO) if ko_side else (
            PREFIX_WORK_EN if work else PREFIX_COMMON_EN)
        title = f"{_fill(rng, rng.choice(pool))} {title}"
    if rng.random() < TIME_RATE and start.time() != time():
        clock = _clock(rng, start, lang)
        title = f"{clock} {title}" if rng.random() < 0.6 else f"{title} {clock}"
    if rng.random() < ABBREV_RATE:
        title = _abbreviate(rng, title)
    if rng.random() < EMOJI_RATE:
        title = _emoji(rng, title, cat, base)
    clean = title
    if rng.random() < TYPO_RATE:
        title = _typo(rng, title, lang)
    if lang != "ko":
        title = _case(rng, title)
    if rng.random() < PUNCT_RATE and not title.endswith("!"):
        title += rng.choice(PUNCT_KO if ko_side else PUNCT_EN)
    title = " ".join(title.split()) or clean.strip()
    event: dict = {"title": title, "startTime": start.isoformat(timespec="seconds"),
                   "endTime": end.isoformat(timespec="seconds")}
    if description.strip():
        event["description"] = description.strip()
    if rng.random() < LOC_RATE[cat]:
        event["location"] = _location(rng, cat, lang)
    if rng.random() < ATTENDEE_RATE[cat]:
        event["attendees"] = _attendees(rng, cat, lang)
    priority = _priority(f"{clean} {title} {description}", _event_priority(cat, template, base))
    event.update(category=cat, priority=priority, lang=lang)
    return event


# ------------------------------------------------------------------------------------------------------ public
def generate_events(n: int, seed: int = 7, *, start_date: date | None = None) -> list[dict]:
    """n labelled events. Each dict: {"title": str, "startTime": iso str (naive, 'YYYY-MM-DDTHH:MM:SS'),
    "endTime": iso str, optional "description": str, optional "location": str, optional "attendees": list[str],
    "category": one of CATEGORIES, "priority": "HIGH"|"MEDIUM"|"LOW", "lang": "en"|"ko"|"mixed"}.

    Optional keys are absent when empty. Same (n, seed, start_date) -> identical output; dates span ~a year
    from start_date (default 2025-01-06)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = random.Random(seed)
    first = start_date or DEFAULT_START
    return [_event(rng, first) for _ in range(n)]


def split_events(events: list[dict], seed: int = 7, val_fraction: float = 0.15, test_fraction: float = 0.15
                 ) -> tuple[list[dict], list[dict], list[dict]]:
    """(train, val, test), stratified by category and deterministic for a seed; each keeps the input order."""
    if val_fraction < 0 or test_fraction < 0 or val_fraction + test_fraction >= 1:
        raise ValueError("val_fraction and test_fraction must be >= 0 and sum to less than 1")
    rng = random.Random(seed)
    by_cat: dict[str, list[int]] = {}
    for i, e in enumerate(events):
        by_cat.setdefault(e["category"], []).append(i)
    part: dict[int, int] = {}
    for cat in sorted(by_cat):
        idx = by_cat[cat]
        rng.shuffle(idx)
        n_val, n_test = round(len(idx) * val_fraction), round(len(idx) * test_fraction)
        part.update({i: 1 for i in idx[:n_val]})
        part.update({i: 2 for i in idx[n_val:n_val + n_test]})
    splits: tuple[list[dict], list[dict], list[dict]] = ([], [], [])
    for i, e in enumerate(events):
        splits[part.get(i, 0)].append(e)
    return splits


# ------------------------------------------------------------------------------------------------ vague titles
# Titles that say nothing about what the time is for. LABELS.md: they may get a best guess, but never a confident
# one. They are not labelled events; a trainer teaches them as "no idea" (a spread-out target), see
# ``models/event_classifier.py``.
VAGUE_FIXED = _t("""a|A|b|x|X|z|q|Q|1|2|0|.|..|...|-|--|~|*|**|?|??|???|!|!?|#|@|/|ㅋ|ㅋㅋ|ㅋㅋㅋ|ㅎ|ㅎㅎ|ㅎㅎㅎ|ㅠ|ㅠㅠ
ㅜㅜ|ㅇ|ㅇㅇ|ㅁ|ㅁㅁ|ㅁㅁㅁ|ㄱ|ㄴ|ㄷ|ㅡ|ㅡㅡ|^^|;;|ㄱㄱ|ㅇㅋ|asdf|asd|qwer|qwerty|zxcv|jkl|hjkl|aaa|sdfsdf|test|test1
testing|abc|xyz|foo|bar|tmp1|ok|k|yo|hmm|hm|huh|lol|meeting?|event?|thing?|stuff?|something?|call?|appointment?
that?|this|that|it|idk|?? meeting|미팅?|약속?|일정?|뭐지|그거?|음|흠|아|어|네|ㄴㄴ|ㅇㅋㅇㅋ|ok?|??? ???|. . .|:)|:(
🙂|👍|✨|❓|❔|🔥|😅|🤔|💤""")


_VAGUE_LOWER = frozenset(t.lower() for t in VAGUE_FIXED)
# Nothing but punctuation, symbols, emoji, digits, or Korean consonant/vowel jamo (ㅋㅋ, ㅠㅠ): no word at all.
_NO_WORD = re.compile(r"^[\W\d_\u3131-\u318E]*$")


def is_contentless(row: dict) -> bool:
    """True for an event whose title says nothing about what the time is for ("a", "asdf", "???", "ㅋㅋ") and that
    has no description or location to tell. Such rows are taught as "no idea", never as a confident class."""
    if (row.get("description") or "").strip() or (row.get("location") or "").strip():
        return False
    title = str(row.get("title") or "").strip()
    if title.lower() in _VAGUE_LOWER:
        return True
    # Every word says nothing: "asdf ㅋㅋ", "?? ..", "a"
    return all(w.lower() in _VAGUE_LOWER or bool(_NO_WORD.match(w)) or len(w) <= 1 for w in title.split())


def _vague_title(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.55:
        return rng.choice(VAGUE_FIXED)
    if r < 0.75:  # keyboard mash or random letters
        return "".join(rng.choice("asdfghjklqwertyuiopzxcvbnm") for _ in range(rng.randint(1, 6)))
    if r < 0.85:  # lone jamo runs
        return rng.choice("ㅋㅎㅠㅜㅇㅁㄱㄴㄷㅂㅅㅈ") * rng.randint(1, 4)
    if r < 0.93:  # punctuation runs
        return "".join(rng.choice("?.!-~*#") for _ in range(rng.randint(1, 4)))
    return str(rng.randint(0, 999))


def generate_vague_titles(n: int, seed: int = 7, *, start_date: date | None = None) -> list[dict]:
    """n unlabelled events whose titles carry no meaning ("a", "asdf", "???", "ㅋㅋ", "meeting?"), with ordinary times:
    {"title", "startTime", "endTime", "lang": "vague"}. Deterministic for (n, seed, start_date)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = random.Random(seed)
    first = start_date or DEFAULT_START
    out = []
    for _ in range(n):
        cat = rng.choices(CATEGORIES, cum_weights=_CAT_CUM)[0]
        start, end = _times(rng, cat, first)
        out.append({"title": _vague_title(rng), "startTime": start.isoformat(timespec="seconds"),
                    "endTime": end.isoformat(timespec="seconds"), "lang": "vague"})
    return out

"""Every threshold and default of the four calendar analyses, each with the reason it has its value.

Change a number here, not inside an analysis; the tests read these names instead of repeating literals.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---------------------------------------------------------------- requests
# Events accepted in one analysis request: a busy year of calendar (the body must also fit GEULPI_MAX_REQUEST_BYTES).
MAX_EVENTS = 5000
# Longest period or lookback: a year of calendar is more than any screen of the app shows.
MAX_PERIOD_DAYS = 366

# ---------------------------------------------------------------- balance
# Recommended shares (percent of scheduled time) when the caller sends no targets: a common
# work-life split that leaves room for health, people and learning.
DEFAULT_TARGETS: dict[str, float] = {
    "WORK": 40.0, "PERSONAL": 20.0, "HEALTH": 15.0, "SOCIAL": 10.0, "LEARNING": 10.0, "OTHER": 5.0,
}
# Targets must add up to 100 %; half a point absorbs the rounding of the client's sliders.
TARGET_SUM_TOLERANCE = 0.5
# A category within this many percentage points of its target is "optimal": smaller gaps are noise of one event.
OPTIMAL_BAND_POINTS = 5.0
# More life areas than this is a malformed request, not a user's planning.
MAX_TARGETS = 50
# A life-area name longer than this is not a name; same limit the app's category editor uses.
MAX_AREA_NAME = 50

# ---------------------------------------------------------------- schedule optimisation
# Working hours when the request gives none: the usual 9-to-6 office day.
DEFAULT_WORKING_HOURS = ("09:00", "18:00")
# Days off when the request gives none: the two-day weekend; send "daysOff": [] for none.
DEFAULT_DAYS_OFF = ("SATURDAY", "SUNDAY")
# Meeting hours per day: about half a working day, so the other half stays free for focused work.
DEFAULT_MAX_MEETING_HOURS_PER_DAY = 4.0
# Back-to-back meeting stretch: attention drops markedly after about two hours without a pause.
DEFAULT_MAX_CONSECUTIVE_MEETING_HOURS = 2.0
# Break between events: none is enforced unless the user asks, because back-to-back events are normal for many.
DEFAULT_MIN_BREAK_MINUTES = 0.0
# Largest break a user may require; longer "breaks" are blocked time and belong in the calendar.
MAX_MIN_BREAK_MINUTES = 240.0
# Two meetings separated by at most this gap form one consecutive stretch: a quarter hour is no real rest.
CONSECUTIVE_GAP_MINUTES = 15
# Suggestions returned when preferences do not say: one screen of the app.
DEFAULT_MAX_SUGGESTIONS = 10
# Upper bound for preferences.maxSuggestions: more moves than this is a new schedule, not an optimisation.
MAX_SUGGESTIONS_LIMIT = 50
# Candidate start times lie on this grid, so suggestions are times people actually book.
SLOT_GRID_MINUTES = 15
# A move may change the day by at most this much; further away it is a reschedule, not an optimisation.
SEARCH_RADIUS_DAYS = 3
# Busy hours per day (all categories) above which the day counts as overloaded.
DAILY_BUSY_LIMIT_HOURS = 10.0
# A move must remove at least this many weighted problem hours (~1 minute) to be worth suggesting.
MIN_IMPROVEMENT_HOURS = 0.02


@dataclass(frozen=True)
class PenaltyWeights:
    """Weight per hour of each schedule problem; double-booking counts most because one of the events cannot happen."""

    overlap: float = 2.0
    outside_hours: float = 1.0
    no_meeting: float = 1.0
    meeting_overload: float = 1.0
    consecutive_meetings: float = 1.0
    missing_break: float = 1.0
    overload: float = 0.5


PENALTY_WEIGHTS = PenaltyWeights()

# ---------------------------------------------------------------- patterns
# Lookback when the request gives none: a quarter shows routines (13 weeks) without old habits.
DEFAULT_PATTERN_LOOKBACK_DAYS = 90
# Below this many events no pattern is trustworthy, so we answer insufficient_data.
MIN_EVENTS_FOR_PATTERNS = 10
# Patterns below this confidence are dropped (requests may override with minConfidence).
DEFAULT_MIN_CONFIDENCE = 0.7
# A pattern needs at least this many occurrences; two could be coincidence.
MIN_PATTERN_OCCURRENCES = 3
# Start times further apart than this are different slots ("10:00" vs "11:30").
CLUSTER_GAP_MINUTES = 60
# Mean deviation from the typical start at which time-consistency reaches 0.
TIME_TOLERANCE_MINUTES = 60
# Normalised titles at least this similar (difflib ratio) are the same event ("Team sync" / "Team synch").
TITLE_SIMILARITY = 0.85
# Above this many distinct titles only exact normalised titles are grouped, to keep grouping fast.
MAX_FUZZY_TITLES = 2000
# A title seen on at least this share of its dates on weekdays is a weekday routine, not a daily one.
WEEKDAY_ROUTINE_SHARE = 0.9
# A category cluster mostly (this share) made of an already reported title pattern adds nothing new.
COVERED_SHARE = 0.8
# A weekday belongs to the workday pattern when work happened on at least this share of its weeks.
WORKDAY_PRESENCE_SHARE = 0.5

# ---------------------------------------------------------------- anomalies
# Starts between these hours are unusual for most people (the "3 a.m. meeting").
LATE_NIGHT_HOURS = (0, 5)
# If this share of a category already starts late at night, it is the user's routine, not an anomaly.
LATE_NIGHT_ROUTINE_SHARE = 0.2
# A category needs this many events before we call one of its start times rare.
MIN_CATEGORY_EVENTS = 10
# Other events of the category within this many minutes of the start make the time ordinary.
RARE_TIME_WINDOW_MINUTES = 90
# Fewer than this share of the category's events near the start time makes the time rare.
RARE_TIME_SHARE = 0.05
# A title group needs this many other occurrences before one of its durations can be unusual.
MIN_GROUP_FOR_DURATION = 4
# Duration at least this many times (or at most 1/this) the title's median is unusual ...
DURATION_RATIO = 2.0
# ... provided it also differs by at least this many minutes (a 10 vs 20 minute call is not news) ...
DURATION_MIN_DIFF_MINUTES = 30
# ... and by this many median absolute deviations, so titles whose length always varies ("Deep work") stay quiet.
DURATION_MAD_FACTOR = 3.0
# A weekday-hour slot needs this many other events before its usual category means anything.
MIN_SLOT_EVENTS = 4
# Share of the slot's events in one category that makes that category "usual" for the slot.
SLOT_DOMINANCE = 0.8

# ---------------------------------------------------------------- burnout
# Lookback when the request gives none: four whole weeks, so every weekly bin of the trend is complete.
DEFAULT_BURNOUT_LOOKBACK_DAYS = 28
# Evening and late-night clock windows (hours): after-work time, then sleep time.
EVENING_HOURS = (18, 22)
LATE_NIGHT_WORK_HOURS = (22, 6)
# A gap shorter than this between work events is back-to-back: no time to stand up or eat.
BACK_TO_BACK_MINUTES = 10
# A partial week at the start of the window enters the trend only with this many observed days, scaled to 7.
MIN_TREND_BIN_DAYS = 4
# Advice for a factor is "medium" priority from this share of the way from healthy to limit ("high" at the limit).
MEDIUM_PRIORITY_FROM = 0.5
# Risk-level thresholds on the 0..1 score (lower bound of medium, high, critical).
RISK_LEVELS = ((0.75, "critical"), (0.5, "high"), (0.25, "medium"), (0.0, "low"))
# A factor at least this many times its limit gets a "high" warning instead of "medium".
WARNING_HIGH_RATIO = 1.25
# Preventive actions returned at most: more than a handful is not actionable.
MAX_ACTIONS = 8
# Days between check-ins per level: the worse it is, the sooner we look again.
CHECK_EVERY_DAYS = {"critical": 1, "high": 3, "medium": 7, "low": 14}
CHECK_FREQUENCY = {"critical": "daily", "high": "every_3_days", "medium": "weekly", "low": "biweekly"}


@dataclass(frozen=True)
class RiskFactor:
    """One burnout factor: at or below ``healthy`` it adds nothing, at ``limit`` it adds its full ``weight``."""

    name: str
    unit: str
    healthy: float
    limit: float
    weight: float


# Weights sum to 1 so the risk score stays in 0..1; hours dominate because they are the best-known driver.
RISK_FACTORS: tuple[RiskFactor, ...] = (
    RiskFactor("workHoursPerWorkday", "h/day", 8.0, 11.0, 0.15),    # statutory 8 h day; 11 h+ is a long day
    RiskFactor("workHoursPerWeek", "h/week", 40.0, 60.0, 0.20),      # 40 h week; 55-60 h+ raises health risks
    RiskFactor("longestStreakDays", "days", 6.0, 12.0, 0.10),        # one day off a week at least
    RiskFactor("eveningWorkHoursPerWeek", "h/week", 2.0, 10.0, 0.08),    # occasional evening call is fine
    RiskFactor("lateNightWorkHoursPerWeek", "h/week", 0.0, 4.0, 0.12),   # work in sleep time harms recovery
    RiskFactor("weekendWorkShare", "share", 0.0, 0.5, 0.10),         # share of weekend days with any work
    RiskFactor("meetingHoursPerWorkday", "h/day", 2.0, 5.0, 0.08),   # past ~4-5 h no focus time remains
    RiskFactor("backToBackShare", "share", 0.2, 0.7, 0.05),          # share of work transitions without a break
    RiskFactor("workShare", "share", 0.6, 0.9, 0.05),                # work's share of all scheduled time
    RiskFactor("weeklyHoursTrend", "h/week per week", 0.0, 5.0, 0.07),   # steadily rising load
)

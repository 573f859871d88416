"""Personal data: what is stored where (keys), how it shows to operators (redaction), who changed what (audit),
and erasing one user's data on request (erasure)."""

"""`org-logging coverage`: is every planned account x region x log type arriving in the central
bucket? (README, "Is it working?")"""

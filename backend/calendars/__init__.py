"""Holiday schedules (放假安排) loaded by operators, used before the chinesecalendar package's data."""

"""English, as a US lender writes it."""

DATE_FORMAT = "M j, Y"  # Apr 12, 2026
DATETIME_FORMAT = "M j, Y, g:i A"  # Apr 12, 2026, 3:05 PM
SHORT_DATE_FORMAT = "m/d/Y"
SHORT_DATETIME_FORMAT = "m/d/Y g:i A"
TIME_FORMAT = "g:i A"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
DATE_INPUT_FORMATS = ["%m/%d/%Y"]
FIRST_DAY_OF_WEEK = 0  # Sunday

# Amounts are US dollars: $1,234.56.
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

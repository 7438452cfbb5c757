"""Spanish, as a US lender writes it for its Spanish-speaking customers.

Dates shown to customers spell the month out ("12 de abril de 2026"; Django translates the month
names): a numeric 04/12/2026 reads as December 4 to many Spanish speakers and as April 12 on US
records. Numeric dates stay month first, as on the loan records, and only where a customer types
one (the date of birth hint says "mes, día y año").
"""

DATE_FORMAT = r"j \d\e F \d\e Y"  # 12 de abril de 2026
DATETIME_FORMAT = r"j \d\e F \d\e Y, g:i A"  # 12 de abril de 2026, 3:05 PM
SHORT_DATE_FORMAT = "m/d/Y"  # as typed and as on US records; not for display
SHORT_DATETIME_FORMAT = "m/d/Y g:i A"
TIME_FORMAT = "g:i A"
MONTH_DAY_FORMAT = r"j \d\e F"
YEAR_MONTH_FORMAT = r"F \d\e Y"
DATE_INPUT_FORMATS = ["%m/%d/%Y"]
FIRST_DAY_OF_WEEK = 0  # Sunday, as on US calendars

# Amounts are US dollars on the lender's statements, which write $1,234.56 in both languages, and
# Spanish speakers in the US read them that way; Django's Spanish default (1.234,56) would make
# a payment on a page differ from the same payment on the statement.
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

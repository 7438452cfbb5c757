"""Date, time and number formats per language, overriding Django's (FORMAT_MODULE_PATH).

Templates use the named formats (`|date:"DATE_FORMAT"`), Python `formats.date_format(value,
"DATETIME_FORMAT")`, so each page reads right in the customer's language.
"""

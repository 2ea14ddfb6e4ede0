"""Server-rendered pages for citizens' phones: search, one item."""

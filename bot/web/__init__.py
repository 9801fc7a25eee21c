"""The read side: the synced conversation served to the site's readers (API, pages, export)."""

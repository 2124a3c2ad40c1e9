"""Getting content in: crawling sites, reading files, extracting main content as Markdown."""

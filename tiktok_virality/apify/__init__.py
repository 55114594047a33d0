"""Apify TikTok scraper items: reading dataset exports and normalizing items into raw_videos rows."""

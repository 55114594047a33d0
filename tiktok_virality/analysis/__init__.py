"""Video analysis: the versioned analysis schema Gemini answers in, its flattening into
`video_analyses` rows, and the offline analyzer that fills what metadata alone can tell."""

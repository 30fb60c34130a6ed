//! Content-addressed audio cache on disk (`ab/cd/<hash>.<ext>`).

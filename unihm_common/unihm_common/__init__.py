"""Pure helpers: hand registry and specs, config loading, SE(3), msg<->numpy conversions, the unihm CLI and launcher."""

"""Where posts come from: feeds, WordPress exports, and the shapes they are read into."""

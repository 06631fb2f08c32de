"""Real-world claims about numpy, scipy and torch behaviour (issue 5) -- filled in below."""

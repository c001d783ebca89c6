"""Operations: what an operator who is not watching a screen needs from a swarm: metrics to scrape,
alerts that reach a person, a report to read."""

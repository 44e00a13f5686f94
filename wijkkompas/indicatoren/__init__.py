"""indicatoren: stage 2, data/raw into the indicator table."""

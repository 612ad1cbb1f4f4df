"""Maps: the basemap from configuration, the week's operations on a map, the PMTiles file."""

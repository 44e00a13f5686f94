"""Web plumbing shared by the pages and the vlekkenkaart: offline Leaflet pages, safe JSON,
geometry for the web and Dutch number notation."""

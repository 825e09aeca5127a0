"""One ranking from the two ways of suggesting a piece: blend, business filters, diversity, reasons."""

"""The pure charger model: state, transactions, meter, LED, quirk profiles (no I/O)."""

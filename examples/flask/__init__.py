"""Flask example application on doorward."""

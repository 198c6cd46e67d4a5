"""Example applications on doorward (a package so that their modules get distinct names)."""

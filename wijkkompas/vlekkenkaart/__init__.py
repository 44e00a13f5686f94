"""vlekkenkaart"""

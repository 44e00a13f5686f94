"""kompas"""

"""Simulated patients and the emitters that present them as monitors."""

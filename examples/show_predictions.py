"""Prints the example's predictions next to the true labels: show_predictions.py LOGITS.npy LABELS.txt"""
import sys

import numpy as np

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

logits = np.load(sys.argv[1])
labels = open(sys.argv[2]).read().split("\n")
for i, row in enumerate(logits):
    p = np.exp(row - row.max())
    p /= p.sum()
    guess = int(row.argmax())
    mark = "ok" if CLASSES[guess] == labels[i] else "wrong"
    print(f"  image {i}: {CLASSES[guess]:<12} ({p[guess]:.0%})  true: {labels[i]:<12} {mark}")

"""cv2.filter2D's default anchor on an even kernel is one row off scipy.signal.correlate2d(..., 'same') (library only).

filter2D's default anchor (-1, -1) is the kernel centre (P // 2, Q // 2); scipy's 'same' correlation is centred at
((P - 1) // 2, (Q - 1) // 2).  They agree for odd kernels only.
"""
import cv2
import numpy as np
from scipy import signal

a = np.array([[0.0], [1.0], [0.0]])
k = np.array([[1.0], [2.0]])
observed = cv2.filter2D(a, -1, k, borderType=cv2.BORDER_CONSTANT)
expected = signal.correlate2d(a, k, "same")
print("observed:", observed.ravel().tolist())
print("expected:", expected.ravel().tolist())
explicit = cv2.filter2D(a, -1, k, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
print("anchor ((Q-1)//2, (P-1)//2) = (0, 0):", explicit.ravel().tolist())

"""PIL.ImageFilter.Kernel on an 'I' (int32) image: the rows of the weights are applied reversed, and negative
results are clipped to 0 (library only).

scipy.signal.convolve2d of an impulse returns the kernel itself; Pillow returns it flipped left-right, i.e. a
correlation with the kernel flipped upside down.  A negative sum comes back as 0 on an int32 image.
"""
import numpy as np
from PIL import Image, ImageFilter
from scipy import signal

a = np.zeros((5, 5), np.int32)
a[2, 2] = 1
k = np.arange(1, 10).reshape(3, 3)
observed = np.asarray(Image.fromarray(a).filter(ImageFilter.Kernel((3, 3), k.ravel().tolist(), scale=1, offset=0)))
expected = signal.convolve2d(a, k, "same")
print("impulse observed:", observed[1:4, 1:4].tolist())
print("impulse expected:", expected[1:4, 1:4].tolist())
b = np.full((3, 3), -1, np.int32)
neg = np.asarray(Image.fromarray(b).filter(ImageFilter.Kernel((3, 3), [1] * 9, scale=1, offset=0)))
print("negative sum observed:", int(neg[1, 1]), "expected:", int(signal.convolve2d(b, np.ones((3, 3), int), "same")[1, 1]))

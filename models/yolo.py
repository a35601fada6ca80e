"""A YOLOv5s (v6.0 layout: width 0.50, depth 0.33) in plain torch.

It mirrors ultralytics' yolov5s.yaml so the export has the real detector's op mix:
Conv-BN-SiLU, C3 bottlenecks, SPPF (MaxPool k=5), nearest Resize x2, Concat, and a Detect
head that reshapes/permutes each scale, splits xy/wh/conf, and decodes with grid and
anchor constants into one [1, N, 85] output. Weights are random (no downloads).
"""
import math

import torch
from torch import nn

NC = 80
NO = NC + 5
ANCHORS = [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]]
STRIDES = [8, 16, 32]


class Conv(nn.Module):
    def __init__(self, c1, c2, k=1, s=1, p=None):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2 if p is None else p, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)  # ultralytics' BN settings
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut=True):
        super().__init__()
        self.cv1, self.cv2 = Conv(c, c, 1), Conv(c, c, 3)
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3(nn.Module):
    def __init__(self, c1, c2, n=1, shortcut=True):
        super().__init__()
        c = c2 // 2
        self.cv1, self.cv2, self.cv3 = Conv(c1, c, 1), Conv(c1, c, 1), Conv(2 * c, c2, 1)
        self.m = nn.Sequential(*(Bottleneck(c, shortcut) for _ in range(n)))

    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        c = c1 // 2
        self.cv1, self.cv2 = Conv(c1, c, 1), Conv(4 * c, c2, 1)
        self.m = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class Detect(nn.Module):
    def __init__(self, ch, img):
        super().__init__()
        self.m = nn.ModuleList(nn.Conv2d(c, 3 * NO, 1) for c in ch)
        for conv, s in zip(self.m, STRIDES):  # ultralytics' bias priors (objectness, class)
            b = conv.bias.data.view(3, NO)
            b[:, 4] += math.log(8 / (640 / s) ** 2)
            b[:, 5:] += math.log(0.6 / (NC - 0.99))
        # Grids are constants for a fixed input size, as in ultralytics' export.
        for i, s in enumerate(STRIDES):
            ny = nx = img // s
            yv, xv = torch.meshgrid(torch.arange(ny), torch.arange(nx), indexing="ij")
            grid = torch.stack((xv, yv), 2).view(1, 1, ny, nx, 2).float() - 0.5
            anchor = torch.tensor(ANCHORS[i], dtype=torch.float32).view(1, 3, 1, 1, 2)
            self.register_buffer(f"grid{i}", grid)
            self.register_buffer(f"anchor{i}", anchor.expand(1, 3, ny, nx, 2).contiguous())

    def forward(self, xs):
        z = []
        for i, x in enumerate(xs):
            x = self.m[i](x)
            bs, _, ny, nx = x.shape
            x = x.view(bs, 3, NO, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            xy, wh, conf = x.sigmoid().split((2, 2, NC + 1), 4)  # exports Split
            xy = (xy * 2 + getattr(self, f"grid{i}")) * STRIDES[i]
            wh = (wh * 2) ** 2 * getattr(self, f"anchor{i}")
            z.append(torch.cat((xy, wh, conf), 4).view(bs, -1, NO))
        return torch.cat(z, 1)


class YoloV5s(nn.Module):
    def __init__(self, img=640):
        super().__init__()
        self.b0 = nn.Sequential(Conv(3, 32, 6, 2, 2), Conv(32, 64, 3, 2), C3(64, 64, 1),
                                Conv(64, 128, 3, 2), C3(128, 128, 2))            # P3/8
        self.b1 = nn.Sequential(Conv(128, 256, 3, 2), C3(256, 256, 3))            # P4/16
        self.b2 = nn.Sequential(Conv(256, 512, 3, 2), C3(512, 512, 1), SPPF(512, 512),
                                Conv(512, 256, 1))                                # P5/32
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.h13 = C3(512, 256, 1, False)
        self.h14 = Conv(256, 128, 1)
        self.h17 = C3(256, 128, 1, False)
        self.h18 = Conv(128, 128, 3, 2)
        self.h20 = C3(256, 256, 1, False)
        self.h21 = Conv(256, 256, 3, 2)
        self.h23 = C3(512, 512, 1, False)
        self.detect = Detect((128, 256, 512), img)

    def forward(self, x):
        p3 = self.b0(x)
        p4 = self.b1(p3)
        p5 = self.b2(p4)                                          # layer 10
        h14 = self.h14(self.h13(torch.cat((self.up(p5), p4), 1)))
        out3 = self.h17(torch.cat((self.up(h14), p3), 1))
        out4 = self.h20(torch.cat((self.h18(out3), h14), 1))
        out5 = self.h23(torch.cat((self.h21(out4), p5), 1))
        return self.detect([out3, out4, out5])

"""BERT-base in plain torch, shaped like Hugging Face's BertModel so that its ONNX export
has the same op mix a real exported BERT has (Gather embeddings, decomposed or fused
LayerNorm, MatMul attention with Reshape/Transpose, erf GELU, Where-masked scores).

No pretrained weights are available offline, so weights are random (HF's init: normal
std 0.02), with LayerNorm affine parameters perturbed so a wrong gamma/beta shows up.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F

VOCAB, HIDDEN, LAYERS, HEADS, FFN, MAX_POS, TYPE_VOCAB = 30522, 768, 12, 12, 3072, 512, 2
LN_EPS = 1e-12


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.dh = HIDDEN // HEADS
        self.query = nn.Linear(HIDDEN, HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = nn.Linear(HIDDEN, HIDDEN)
        self.out = nn.Linear(HIDDEN, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=LN_EPS)

    def heads(self, x):
        # [b, s, h] -> [b, heads, s, dh]; sizes come from the tensor so the export
        # keeps batch and sequence dynamic (Shape/Gather/Concat/Reshape in the graph).
        b, s = x.size(0), x.size(1)
        return x.view(b, s, HEADS, self.dh).permute(0, 2, 1, 3)

    def forward(self, x, bias):
        q, k, v = self.heads(self.query(x)), self.heads(self.key(x)), self.heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.dh)
        probs = torch.softmax(scores + bias, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        ctx = ctx.view(ctx.size(0), ctx.size(1), HIDDEN)
        return self.ln(self.out(ctx) + x)


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = SelfAttention()
        self.inter = nn.Linear(HIDDEN, FFN)
        self.output = nn.Linear(FFN, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=LN_EPS)

    def forward(self, x, bias):
        x = self.attn(x, bias)
        return self.ln(self.output(F.gelu(self.inter(x))) + x)  # erf GELU (default)


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN, padding_idx=0)
        self.position = nn.Embedding(MAX_POS, HIDDEN)
        self.token_type = nn.Embedding(TYPE_VOCAB, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=LN_EPS)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.pooler = nn.Linear(HIDDEN, HIDDEN)
        # HF keeps position ids as a buffer and slices it to the sequence length.
        self.register_buffer("position_ids", torch.arange(MAX_POS).unsqueeze(0))
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.bias, std=0.02)
        if isinstance(m, nn.LayerNorm):
            nn.init.normal_(m.weight, mean=1.0, std=0.1)
            nn.init.normal_(m.bias, std=0.1)

    @staticmethod
    def mask_bias(attention_mask):
        """[b, s] int64 mask -> additive [b, 1, s, s] float bias (0 keep, finfo.min drop).

        Deliberately mixes both HF idioms: the classic (1 - m) * min of
        get_extended_attention_mask (Cast/Sub/Mul) and the masked_fill of _expand_mask
        (Where), broadcast with Unsqueeze/Expand, so the engine sees all of them."""
        b, s = attention_mask.size(0), attention_mask.size(1)
        m = attention_mask[:, None, None, :].expand(b, 1, s, s).to(torch.float32)
        inverted = 1.0 - m
        lowest = torch.finfo(torch.float32).min
        return torch.where(inverted.to(torch.bool), inverted * lowest, torch.tensor(0.0))

    def forward(self, input_ids, attention_mask, token_type_ids):
        pos = self.position_ids[:, : input_ids.size(1)]
        x = self.word(input_ids) + self.token_type(token_type_ids) + self.position(pos)
        x = self.ln(x)
        bias = self.mask_bias(attention_mask)
        for layer in self.layers:
            x = layer(x, bias)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return x, pooled


def example_inputs(rng, seq=128, pad=20):
    """One sentence pair padded to `seq`: [CLS] a [SEP] b [SEP] then `pad` zeros."""
    n = seq - pad
    ids = rng.randint(1000, VOCAB, size=(1, seq)).astype("int64")
    ids[0, 0], ids[0, n // 2], ids[0, n - 1] = 101, 102, 102  # [CLS], [SEP], [SEP]
    ids[0, n:] = 0
    mask = (ids != 0).astype("int64")
    types = ids * 0
    types[0, n // 2 + 1 : n] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}

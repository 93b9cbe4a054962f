"""Model prices, USD per million tokens, to turn token counts into cost.

Source: OpenAI's public API pricing page (standard tier, text tokens), as published on
2025-08-07 (``PRICES_AS_OF``). Prices change: check the provider's page and pass
``cost_usd=`` explicitly to ``run.record_model_call`` when you know better.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PRICES", "PRICES_AS_OF", "PRICES_SOURCE", "ModelPrice", "cost_usd", "price_for"]

PRICES_AS_OF = "2025-08-07"
PRICES_SOURCE = "OpenAI API pricing page, standard tier, text tokens"


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """Price of one model.

    Attributes:
        input_per_mtok: USD per 1,000,000 input tokens.
        output_per_mtok: USD per 1,000,000 output tokens.
    """

    input_per_mtok: float
    output_per_mtok: float


PRICES: dict[str, ModelPrice] = {
    "gpt-5": ModelPrice(1.25, 10.00),
    "gpt-5-mini": ModelPrice(0.25, 2.00),
    "gpt-5-nano": ModelPrice(0.05, 0.40),
    "gpt-4.1": ModelPrice(2.00, 8.00),
    "gpt-4.1-mini": ModelPrice(0.40, 1.60),
    "gpt-4.1-nano": ModelPrice(0.10, 0.40),
    "gpt-4o": ModelPrice(2.50, 10.00),
    "gpt-4o-mini": ModelPrice(0.15, 0.60),
    "o3": ModelPrice(2.00, 8.00),
    "o3-mini": ModelPrice(1.10, 4.40),
    "o4-mini": ModelPrice(1.10, 4.40),
}


def price_for(model: str) -> ModelPrice | None:
    """The price of ``model``, matching dated snapshots (``gpt-4o-2024-08-06``) to their base.

    Returns None for a model not in the table.
    """
    if model in PRICES:
        return PRICES[model]
    # Longest base name that prefixes the snapshot name, e.g. "gpt-4o-mini-2024-07-18".
    for base in sorted(PRICES, key=len, reverse=True):
        if model.startswith(base + "-"):
            return PRICES[base]
    return None


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> float | None:
    """Cost in USD of a call, or None when the model's price is unknown."""
    price = price_for(model)
    if price is None:
        return None
    return (input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok) / 1e6

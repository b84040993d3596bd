"""Synthetic memories for the store benchmark: short texts of many users, unit vectors."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from mnemo.models import Memory

DIMENSION = 384
NAMESPACE = "bench"

NAMES = (
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
    "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Yusuf", "Zoe",
    "Priya", "Chen", "Diego", "Fatima", "Hiro", "Ingrid", "Kofi", "Lena", "Mateo", "Noor", "Omar",
    "Paula", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vera", "Wen", "Ximena", "Yara", "Zeke",
    "Amara", "Bruno", "Chloe", "Dmitri", "Elif",
)  # fmt: skip
VERBS = (
    "visited", "booked", "cancelled", "prefers", "bought", "repaired", "planned", "recommended",
    "borrowed", "painted", "cooked", "ordered", "sold", "photographed", "forgot", "discussed",
    "rescheduled", "reviewed", "organised", "lost", "found", "returned", "shared", "cleaned",
    "upgraded", "practised", "packed", "compared", "delayed", "finished", "started", "liked",
)  # fmt: skip
ADJECTIVES = (
    "old", "new", "blue", "tiny", "expensive", "cheap", "noisy", "quiet", "broken", "shiny",
    "vintage", "electric", "wooden", "spicy", "weekly", "annual", "secret", "shared", "heavy",
    "fragile", "local", "imported", "handmade", "favourite",
)  # fmt: skip
THINGS = (
    "dentist appointment", "lasagna", "quarterly report", "road bike", "kitchen sink",
    "jazz tickets", "birthday present", "cloud migration", "yoga class", "rent payment",
    "hiking route", "sourdough starter", "piano lesson", "car insurance", "wedding venue",
    "garden fence", "laptop battery", "flight", "sushi dinner", "marathon training", "tax return",
    "chess club", "camera", "climbing shoes", "podcast episode", "coffee grinder", "passport",
    "board game", "guitar", "standing desk", "telescope", "aquarium", "sewing machine", "kayak",
    "violin", "bookshelf", "thermostat", "scooter", "backpack", "espresso machine", "tent",
    "headphones", "microwave", "drone", "sketchbook", "umbrella", "lamp", "notebook",
)  # fmt: skip
PLACES = (
    "Lisbon", "Berlin", "Nairobi", "Osaka", "Toronto", "Lima", "Oslo", "Austin", "Seville",
    "Hanoi", "Dublin", "Krakow", "Denver", "Porto", "Auckland", "Quito", "Tunis", "Riga", "Perth",
    "Bergen", "Cusco", "Gdansk", "Malmo", "Leeds", "Utrecht", "Bilbao", "Accra", "Cebu", "Dakar",
    "Graz", "Hobart", "Izmir",
)  # fmt: skip
WHEN = ["last week", "yesterday", "in March", "next month", "on Sunday", "this morning"]


@dataclass
class Corpus:
    """Memories of `users` users with precomputed unit vectors and short realistic texts."""

    vectors: np.ndarray
    texts: list[str]
    users: list[str]
    intrinsic_dim: int

    @classmethod
    def make(cls, n: int, users: int, intrinsic_dim: int, seed: int = 7) -> Corpus:
        rng = random.Random(seed)
        texts = [
            f"{rng.choice(NAMES)} {rng.choice(VERBS)} the {rng.choice(ADJECTIVES)} "
            f"{rng.choice(THINGS)} in {rng.choice(PLACES)} {rng.choice(WHEN)}"
            for _ in range(n)
        ]
        owners = [f"user-{rng.randrange(users)}" for _ in range(n)]
        return cls(unit_vectors(n, intrinsic_dim, seed), texts, owners, intrinsic_dim)

    def memory(self, i: int) -> Memory:
        return Memory(
            id=f"m{i}", namespace=NAMESPACE, user_id=self.users[i], text=self.texts[i]
        ).with_hash()


def unit_vectors(n: int, intrinsic_dim: int, seed: int) -> np.ndarray:
    """Random unit vectors; with intrinsic_dim > 0 they lie near a random subspace.

    Real sentence embeddings have a low intrinsic dimension; isotropic random vectors in
    384-d (intrinsic_dim 0) are the worst case of any ANN index and unlike real data.
    """
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(0).standard_normal((max(intrinsic_dim, 1), DIMENSION))
    out = np.empty((n, DIMENSION), dtype=np.float32)
    for start in range(0, n, 100_000):
        size = min(100_000, n - start)
        if intrinsic_dim:
            chunk = rng.standard_normal((size, intrinsic_dim)) @ basis
            chunk += 0.5 * rng.standard_normal((size, DIMENSION))
        else:
            chunk = rng.standard_normal((size, DIMENSION))
        out[start : start + size] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return out


def query_texts(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    shapes = [
        lambda: f"what did {rng.choice(NAMES)} {rng.choice(VERBS)}",
        lambda: f"the {rng.choice(THINGS)} in {rng.choice(PLACES)}",
        lambda: f"who {rng.choice(VERBS)} the {rng.choice(THINGS)}",
    ]
    return [rng.choice(shapes)() for _ in range(count)]

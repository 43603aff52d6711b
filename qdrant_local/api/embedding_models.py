"""The fastembed model catalogue of ``qdrant_client.QdrantClient``, as local mode answers it.

qdrant_local does not embed documents itself; these calls only report what fastembed offers, exactly
as qdrant-client does: when fastembed is not installed the ``list_*_models`` calls return ``{}`` and
``get_embedding_size`` raises qdrant-client's ``ImportError``. fastembed is imported only when one of
them is called.
"""

from __future__ import annotations

from typing import Any

from .. import models

__all__ = ["EmbeddingModelsApi"]

_NOT_INSTALLED = (
    "fastembed is not installed. Please install it to compute embedding for document implicitly with "
    "`pip install fastembed`."
)


def _fastembed() -> Any:
    try:
        import fastembed
    except ImportError:
        return None
    return fastembed


def _dense_models(class_name: str) -> dict[str, tuple[int, models.Distance]]:
    fastembed = _fastembed()
    if fastembed is None:
        return {}
    embedding = getattr(fastembed, class_name)
    return {model["model"]: (model["dim"], models.Distance.COSINE) for model in embedding.list_supported_models()}


class EmbeddingModelsApi:
    """``DEFAULT_BATCH_SIZE``, ``get_embedding_size`` and the ``list_*_models`` class methods."""

    DEFAULT_BATCH_SIZE = 8

    @classmethod
    def list_text_models(cls) -> dict[str, tuple[int, models.Distance]]:
        """fastembed's dense text models: name -> (dimension, distance); ``{}`` without fastembed."""
        return _dense_models("TextEmbedding")

    @classmethod
    def list_image_models(cls) -> dict[str, tuple[int, models.Distance]]:
        """fastembed's image models: name -> (dimension, distance); ``{}`` without fastembed."""
        return _dense_models("ImageEmbedding")

    @classmethod
    def list_late_interaction_text_models(cls) -> dict[str, tuple[int, models.Distance]]:
        """fastembed's late interaction text models; ``{}`` without fastembed."""
        return _dense_models("LateInteractionTextEmbedding")

    @classmethod
    def list_late_interaction_multimodal_models(cls) -> dict[str, tuple[int, models.Distance]]:
        """fastembed's late interaction multimodal models; ``{}`` without fastembed."""
        return _dense_models("LateInteractionMultimodalEmbedding")

    @classmethod
    def list_sparse_models(cls) -> dict[str, dict[str, Any]]:
        """fastembed's sparse text models: name -> description; ``{}`` without fastembed."""
        fastembed = _fastembed()
        if fastembed is None:
            return {}
        return {model.pop("model"): model for model in fastembed.SparseTextEmbedding.list_supported_models()}

    def get_embedding_size(self, model_name: str) -> int:
        """The dimension of a fastembed dense model's embeddings.

        Raises:
            ImportError: fastembed is not installed.
            ValueError: a sparse model, or a model fastembed does not know.
        """
        if _fastembed() is None:
            raise ImportError(_NOT_INSTALLED)
        for catalogue in (
            self.list_text_models(),
            self.list_image_models(),
            self.list_late_interaction_text_models(),
            self.list_late_interaction_multimodal_models(),
        ):
            if model_name in catalogue:
                return catalogue[model_name][0]
        if model_name in self.list_sparse_models():
            raise ValueError("Sparse embeddings do not return fixed embedding size and distance type")
        raise ValueError(f"Unsupported embedding model: {model_name}")

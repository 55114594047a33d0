"""Resources, one per external system, each an abstract interface with a real and an offline
implementation; `definitions.build_resources` is the one place that chooses between them."""

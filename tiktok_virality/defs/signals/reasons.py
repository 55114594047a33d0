"""Why a video's signals are null, as `signals_note` says it: kept apart from the measuring code so
that the asset's module (imported whenever the graph is) does not load the media libraries."""

NO_MEDIA = "no media file cached"
UNREADABLE = "unreadable media file"
STOPPED_EARLY = "decoding stopped early"
NO_VIDEO = "no video stream"
TOO_FEW_PICTURES = "too few pictures decoded"
NO_AUDIO = "no audio stream"
SOUND_TOO_SHORT = "sound too short to measure (under 0.4 s)"

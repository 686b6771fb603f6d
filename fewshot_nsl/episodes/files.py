"""Fixed evaluation-episode files, every model scored on the very same episodes: the public names in one import.

- :mod:`.file_format`: the file format (``.json.gz``), :class:`EpisodeFile`, reading and writing one file;
- :mod:`.drawing`: drawing a split's seeded episodes into a file;
- :mod:`.standard`: where the committed standard files are found;
- :mod:`.fingerprint`: the fingerprint of the episodes an evaluation saw;
- :mod:`.labelled_split`: what a split must offer (names and labels, pixels optional).
"""

from .drawing import build_episode_file, make_episode_file
from .file_format import FORMAT, VERSION, EpisodeFile, episode_file_name, read_episode_file, write_episode_file
from .fingerprint import episodes_fingerprint
from .labelled_split import LabelledSplit, SplitLabels
from .standard import ENV_VAR, STANDARD_DIR, episode_dirs, standard_episode_file

__all__ = ["ENV_VAR", "FORMAT", "STANDARD_DIR", "VERSION", "EpisodeFile", "LabelledSplit", "SplitLabels",
           "build_episode_file", "episode_dirs", "episode_file_name", "episodes_fingerprint", "make_episode_file",
           "read_episode_file", "standard_episode_file", "write_episode_file"]

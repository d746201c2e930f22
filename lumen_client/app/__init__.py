"""The Qt desktop application: host list, trust prompts, the stream window."""

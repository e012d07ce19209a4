"""HOI datasets (DexYCB, OakInk), synthetic interactions, retargeting and language annotation."""

"""Disclosures (公示信息): what agencies must publish before, during and after enforcement."""

"""Complaints (投诉举报): citizens file and follow them; handlers work them on a statutory clock."""

"""Officers (执法人员), their credentials and QR badges (亮证执法), and badge verification."""

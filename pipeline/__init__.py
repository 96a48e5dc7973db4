"""What the stages share: typed params from params.yaml, MLflow tracking, paths."""

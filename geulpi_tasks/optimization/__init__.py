"""Model optimisation: Optuna hyperparameter search (single and multi-objective, distributed over training
workers through a journal on Redis), tree pruning of trained forests, and a time-budgeted AutoML search."""

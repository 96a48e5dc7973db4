import pytest

from ailab.trainers import TrainingConfig


def test_defaults_match_the_issue_and_round_trip_through_a_dict():
    config = TrainingConfig(output_dir="out", max_steps=10, warmup_steps=2)
    assert (config.learning_rate, config.weight_decay, config.adam_betas) == (5e-4, 0.1, (0.9, 0.95))
    assert (config.mixed_precision, config.lr_scheduler, config.device) == ("auto", "cosine", "auto")
    d = config.to_dict()
    assert d["adam_betas"] == [0.9, 0.95]
    assert TrainingConfig.from_dict(d) == config


@pytest.mark.parametrize(
    "overrides, field",
    [
        (dict(max_steps=None), "num_train_epochs or max_steps"),
        (dict(num_train_epochs=1), "num_train_epochs or max_steps"),
        (dict(max_steps=0), "max_steps"),
        (dict(learning_rate=-1.0), "learning_rate"),
        (dict(min_learning_rate=1.0), "min_learning_rate"),
        (dict(lr_scheduler="step"), "lr_scheduler"),
        (dict(adam_betas=(0.9,)), "adam_betas"),
        (dict(train_batch_size=0), "train_batch_size"),
        (dict(gradient_accumulation_steps=1.5), "gradient_accumulation_steps"),
        (dict(eval_steps=0), "eval_steps"),
        (dict(save_total_limit=-2), "save_total_limit"),
        (dict(mixed_precision="fp8"), "mixed_precision"),
        (dict(device="gpu"), "device"),
        (dict(max_grad_norm=-1.0), "max_grad_norm"),
    ],
)
def test_invalid_values_name_the_field(overrides, field):
    fields = dict(output_dir="out", max_steps=10)
    fields.update(overrides)
    with pytest.raises(ValueError, match=field):
        TrainingConfig(**fields)


def test_from_dict_names_unknown_keys():
    with pytest.raises(ValueError, match="learning_rat"):
        TrainingConfig.from_dict({"output_dir": "out", "max_steps": 3, "learning_rat": 1e-3})

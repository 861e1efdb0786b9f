import json

from emission_list.lifecycle import RegionAlertState, apply_forecast
from emission_list.samples import kundulun_episode
from emission_list.warnings import decide, national_rules
from service.storage.alert_codec import state_from_dict, state_to_dict


def test_every_state_of_the_sample_episode_survives_a_json_round_trip_and_continues_alike():
    episode = kundulun_episode()
    rules = national_rules()
    kept, restored = {}, {}
    for forecast in episode.forecasts:
        region = forecast.region
        decision = decide(forecast, rules)
        a, events_a = apply_forecast(
            kept.get(region, RegionAlertState(region=region)), decision, forecast
        )
        b, events_b = apply_forecast(
            restored.get(region, RegionAlertState(region=region)), decision, forecast
        )
        assert [(e.kind, e.alert) for e in events_a] == [(e.kind, e.alert) for e in events_b]
        kept[region] = a
        restored[region] = state_from_dict(json.loads(json.dumps(state_to_dict(b))))
        assert state_to_dict(restored[region]) == state_to_dict(a)
        assert (
            restored[region].current == a.current
            and restored[region].lower_streak == a.lower_streak
        )

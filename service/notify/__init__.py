"""Notices to enterprises and agencies: subscriptions, the channels that carry a notice
(webhook, SMS gateway, email), the texts they carry and the signed acknowledgement links."""

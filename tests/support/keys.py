"""Documented test keys. Synthetic: none of them is a real Checkout.com or merchant secret."""

CHECKOUT_SECRET_KEY = "sk_sbox_m73dzbpy7cf3gfd46xr4yj5xo4e"  # sandbox format, not a real key
WEBHOOK_SIGNING_KEY = "whsec_qpay_test_signing_key_0001"  # events/ fixtures are signed with this one
WEBHOOK_SIGNING_KEY_OLD = "whsec_qpay_test_signing_key_0000"  # rotation: still accepted
MERCHANT_API_KEY = "mk_test_qpay_merchant_key_0001_synthetic"
ORDER_TOKEN_KID = "otk-2026-11"
ORDER_TOKEN_KEY = "otk_test_qpay_order_token_key_0001_synthetic"
SERVER_KEY = "srv_test_qpay_server_key_0001_synthetic_value"
PROCESSING_CHANNEL_ID = "pc_qpaytestchannelaaaaaaaaaaa"
# Synthetic national IDs: the shape of Qatar IDs is 11 digits; these are made up.
NATIONAL_ID = "28763400000"
CANARY_NATIONAL_ID = "29999000042"

"""Issue 9 item 8: WeChat downgrade and replay, with the real wechatpy signing and crypto.

With the signature, timestamp and nonce of one genuine request (any proxy access log keeps
them), anyone could post plain XML as any openid for 5 minutes — even with AES configured.
The replay of a captured query with another body: test_channels_wechat.py (plain mode).
"""

from __future__ import annotations

from sqlalchemy import func, select

from channels.replay import NonceBook
from hotline.storage.models import Contact
from tests import channels_support as support
from tests.integration.test_channels_wechat import orders, post_aes, post_plain, text

vendors = support.vendors
settings = support.settings  # the AES key set, plain_mode at its default (off)


async def test_with_an_aes_key_only_encrypted_messages_are_accepted(hotline, client, clock):
    forged = text("查询", 24518000000000101, sender="o_someone_else", clock=clock)
    status, body = await post_plain(client, clock, forged)
    assert status == 403 and "plain_message_refused" in body  # was 200: the downgrade worked
    status, _, _, _ = await post_aes(client, clock, text("桥上护栏断了", 24518000000000102, clock=clock))
    assert status == 200
    assert await orders(hotline) == 1
    async with hotline.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Contact))).scalar_one() == 1


async def test_nonces_are_shared_by_every_node_through_redis(redis_url):
    import redis.asyncio as aioredis

    r = aioredis.from_url(redis_url)
    try:
        await r.delete("test:wechat:nonce:1795490400:abc")
        a = NonceBook(r, ttl_seconds=60, prefix="test:wechat:nonce")
        b = NonceBook(r, ttl_seconds=60, prefix="test:wechat:nonce")
        assert await a.admit("1795490400", "abc", b"<xml>first</xml>")
        assert await b.admit("1795490400", "abc", b"<xml>first</xml>")  # a retry, on another node
        assert not await b.admit("1795490400", "abc", b"<xml>forged</xml>")
        assert 0 < await r.ttl("test:wechat:nonce:1795490400:abc") <= 60
    finally:
        await r.delete("test:wechat:nonce:1795490400:abc")
        await r.aclose()


async def test_nonces_in_process_expire() -> None:
    now = [0.0]
    book = NonceBook(None, ttl_seconds=10, prefix="p", clock=lambda: now[0])
    assert await book.admit("1", "n", b"a") and await book.admit("1", "n", b"a")
    assert not await book.admit("1", "n", b"b")
    now[0] = 11.0
    assert await book.admit("1", "n", b"b")  # after the window the timestamp itself is refused anyway

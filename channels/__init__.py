"""The written channels (六位一体): SMS, WeChat, web portal, app + Open311, fax.

Each adapter implements the same small interface — verify the request, parse it into a
`hotline.contact.Contact` (through intake), acknowledge, notify the citizen later — and
translates its vendor's errors at its edge. `channels.module` plugs them into the hotline.
"""

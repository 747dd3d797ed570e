"""Hotline 12345 (政务服务便民热线): asyncio core and composition root."""

__version__ = "0.1.0"

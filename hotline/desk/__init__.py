"""The agents' desk (坐席工作台) with its browser softphone, the supervisors' wallboard and
the admin screens: pages and ES modules over the same JSON API and live socket."""

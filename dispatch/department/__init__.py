"""The department side (承办单位): the department API (`api`: orders, actions, notices;
`files`: uploads and downloads), and the plain page (`page`) for offices without a system
of their own, which drives the same API."""

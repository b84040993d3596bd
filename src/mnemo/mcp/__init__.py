"""mnemo's MCP server: the memory tools over stdio (`mnemo mcp`) and streamable HTTP (/mcp)."""

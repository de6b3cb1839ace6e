import streamlit as st

st.title('scenario')
